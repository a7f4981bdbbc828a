-- Federated planning: aggregation below joins (query/plan_eager.c) and
-- remote scans whose fragments carry unread columns. In the federated run
-- (t_fed_diff) orders lives on another org's node, so its owner groups
-- by the join key first; the answers must not change.
SELECT p.name, count(*), sum(o.amount), avg(o.amount), min(o.placed), max(o.category) FROM t.orders o JOIN t.people p ON o.person_id = p.id GROUP BY p.name ORDER BY p.name;
SELECT p.city_id, count(o.amount), sum(o.amount) FROM t.orders o JOIN t.people p ON o.person_id = p.id GROUP BY p.city_id ORDER BY 1 NULLS FIRST;
SELECT count(*), sum(o.amount) FROM t.orders o JOIN t.people p ON o.person_id = p.id;
SELECT p.active, avg(o.amount * 2), max(o.amount + o.id) FROM t.people p JOIN t.orders o ON p.id = o.person_id GROUP BY p.active ORDER BY 1;
SELECT c.country, count(*) FROM t.orders o JOIN t.people p ON o.person_id = p.id JOIN t.cities c ON p.city_id = c.city_id GROUP BY c.country ORDER BY 1;
SELECT p.name, sum(o.amount) FROM t.orders o JOIN t.people p ON o.person_id = p.id AND o.id = p.id GROUP BY p.name ORDER BY 1;
SELECT p.age / 10 AS decade, count(*), min(o.amount) FROM t.orders o JOIN t.people p ON o.person_id = p.id WHERE o.amount > 0 GROUP BY 1 ORDER BY 1 NULLS LAST;
SELECT p.name, count(DISTINCT o.category) FROM t.orders o JOIN t.people p ON o.person_id = p.id GROUP BY p.name ORDER BY 1;
SELECT n.c, count(*), sum(b.k) FROM t.big b JOIN t.nulls n ON b.id = n.a GROUP BY n.c ORDER BY 1 NULLS FIRST;
SELECT p.name, count(*) FROM t.orders o LEFT JOIN t.people p ON o.person_id = p.id GROUP BY p.name ORDER BY 1 NULLS FIRST;
SELECT count(*) FROM (SELECT amount FROM t.orders WHERE amount > 0 LIMIT 1) s;
