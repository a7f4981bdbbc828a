-- Long IN lists (query/func_in.c: a hash set past 8 constants), and joins
-- whose filtered small side sends its keys into the other side's fragment
-- (query/plan_dynf.c: in the federated run, t_fed_diff, people and cities
-- live on two nodes of acme and the asker is a third).
SELECT id FROM t.people WHERE age IN (1, 2, 3, 5, 8, 13, 21, 34, 55, 89) ORDER BY id;
SELECT id FROM t.people WHERE age NOT IN (1, 2, 3, 5, 8, 13, 21, 34, 55, 89) ORDER BY id;
SELECT count(*) FROM t.people WHERE age IN (1, 2, 3, 5, 8, 13, 21, 34, 55, NULL);
SELECT count(*) FROM t.people WHERE age NOT IN (1, 2, 3, 5, 8, 13, 21, 34, 55, NULL);
SELECT count(*) FROM t.people WHERE name IN ('Ann', 'bob', 'Zoë', '東京', '', 'a', 'b', 'c', 'd', 'e', 'f');
SELECT count(*) FROM t.people WHERE name NOT IN ('Ann', 'bob', 'Zoë', '東京', '', 'a', 'b', 'c', 'd', 'e', 'f');
SELECT count(*) FROM t.nulls WHERE a IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11) OR a IS NULL;
SELECT p.id, c.city FROM t.people p JOIN t.cities c ON c.city_id = p.city_id WHERE c.city_id < 5 ORDER BY 1, 2;
SELECT c.country, count(*), avg(p.age) FROM t.people p JOIN t.cities c ON p.city_id = c.city_id WHERE c.city_id % 3 = 0 GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM t.people p JOIN t.cities c ON p.city_id = c.city_id WHERE c.city_id < 0;
SELECT p.id FROM t.people p JOIN t.cities c ON p.city_id = c.city_id AND p.age > c.city_id WHERE c.country LIKE 'S%' ORDER BY 1;
SELECT c.city, p.name FROM t.cities c JOIN t.people p ON p.name = c.city WHERE c.city_id < 10 ORDER BY 1, 2;
SELECT p.name, c.country FROM t.people p JOIN t.cities c ON p.city_id = c.city_id WHERE c.country IN ('France', 'Japan', 'Brazil') ORDER BY 1, 2;
SELECT count(*), sum(p.score) FROM t.people p JOIN t.cities c ON p.city_id = c.city_id JOIN t.people q ON q.id = p.id WHERE c.city_id = 3;
SELECT p.id, c.city FROM t.people p JOIN t.cities c ON c.city_id = p.city_id WHERE c.city_id < 8 ORDER BY p.id DESC LIMIT 5;
