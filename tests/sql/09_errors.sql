-- Queries PostgreSQL rejects; weft must reject them too (exit code 1).
-- error
SELECT 1 / 0;
-- error
SELECT id, 100 / (age - 30) FROM t.people;
-- error
SELECT amount % 0 FROM t.orders;
-- error
SELECT score / 0 FROM t.people WHERE score IS NOT NULL;
-- error
SELECT nosuch FROM t.people;
-- error
SELECT p.nosuch FROM t.people p;
-- error
SELECT * FROM t.nosuch;
-- error
SELECT 'abc' + 1;
-- error
SELECT name + 1 FROM t.people;
-- error
SELECT 'x'::bigint;
-- error
SELECT sum(name) FROM t.people;
-- error
SELECT id, count(*) FROM t.people;
-- error
SELECT * FROM t.people WHERE age;
-- error
SELECT id FROM t.people p JOIN t.orders o ON p.id = o.person_id;
-- error
SELECT 9223372036854775807 + 1;
-- error
SELECT 2147483647 + 1;
-- error
SELECT amount * 10000000 FROM t.orders;
-- error
SELECT f::bigint FROM t.nulls WHERE f IS NOT NULL;
-- error
SELECT 1 AS a UNION SELECT 'a';
-- error
SELECT 1, 2 UNION SELECT 1;
-- error
SELECT * FROM t.people ORDER BY 9;
-- error
SELECT count(*) FROM t.people GROUP BY 5;
-- error
SELECT length(42);
-- error
SELECT name FROM t.people WHERE name > 5;
-- error
SELECT active + 1 FROM t.people;
-- error
SELECT '2024-13-45'::timestamp;
-- error
SELECT date_trunc('fortnight', joined) FROM t.people;
-- error
SELECT id FROM t.people LIMIT -1;
-- error
SELECT age * 9223372036854775807 FROM t.people WHERE age > 1;
-- error
SELECT score % 2 FROM t.people;
-- error
SELECT id, name, count(*) FROM t.people GROUP BY id;
-- error
SELECT id FROM t.people WHERE count(*) > 1;
-- error
SELECT sum(count(*)) FROM t.people;
-- error
SELECT id, age * 2 AS dbl FROM t.people ORDER BY dbl + 1;
-- error
SELECT id, age * 2 AS dbl FROM t.people WHERE dbl > 10;
-- error
SELECT DISTINCT name FROM t.people ORDER BY age;
-- error
SELECT substr(name, 1, -1) FROM t.people;
-- error
SELECT id FROM t.people JOIN t.cities USING (nosuch);
-- error
SELECT p.id FROM t.people p JOIN t.people p ON true;
-- error
SELECT name FROM t.people UNION SELECT id FROM t.people;
