-- Statistical aggregates (query/agg_stat.c): variance, stddev, covariance,
-- correlation and the regr_* family. Their states merge, so in the
-- federated run (t_fed_diff) each owner folds its rows and the asker
-- merges; answers must match PostgreSQL to 1e-9 relative either way.
SELECT variance(age), var_pop(age), var_samp(age), stddev(age), stddev_pop(age), stddev_samp(age) FROM t.people;
SELECT variance(score), var_pop(score), stddev(score), stddev_pop(score) FROM t.people;
-- amount reaches 1e12: variances of 24 digits, which a double (weft's
-- numeric) holds to 16; as double precision both sides print them so
-- that they compare to 1e-9 relative
SELECT variance(amount)::float8 AS v, stddev(amount), var_pop(amount)::float8 AS vp, stddev_pop(amount) FROM t.orders;
SELECT variance(pop), stddev(pop) FROM t.cities;
SELECT variance(a), stddev(b), var_pop(f), stddev_pop(a) FROM t.nulls;
SELECT variance(v), stddev(v), var_pop(id), corr(v, id), regr_count(v, id) FROM t.empty;
SELECT variance(age) AS v, stddev(score) AS s FROM t.people WHERE id < 2;
SELECT variance(age) AS v, stddev(score) AS s, var_pop(age) AS vp FROM t.people WHERE id = 1;
SELECT corr(score, age), covar_pop(score, age), covar_samp(score, age) FROM t.people;
SELECT regr_slope(score, age), regr_intercept(score, age), regr_r2(score, age), regr_count(score, age) FROM t.people;
SELECT regr_sxx(score, age), regr_syy(score, age), regr_sxy(score, age), regr_avgx(score, age), regr_avgy(score, age) FROM t.people;
SELECT corr(amount, person_id), regr_slope(amount, person_id), regr_count(amount, person_id) FROM t.orders;
SELECT corr(b, a), regr_slope(f, b), regr_intercept(f, a), regr_count(b, f), covar_samp(a, f) FROM t.nulls;
SELECT active, variance(age), stddev(score), corr(score, age), regr_slope(score, age), regr_count(score, age) FROM t.people GROUP BY active;
SELECT city_id, stddev_pop(age), var_samp(score), covar_pop(score, age) FROM t.people GROUP BY city_id;
SELECT category, variance(amount)::float8 AS v, stddev(amount), regr_slope(amount, person_id), regr_r2(amount, person_id) FROM t.orders GROUP BY category;
SELECT g, variance(v), stddev(k), corr(v, k), regr_slope(v, k), regr_intercept(v, k), regr_count(v, k) FROM t.big GROUP BY g;
SELECT variance(v), stddev_pop(k), corr(v, k), covar_samp(v, k), regr_r2(v, k), regr_avgy(v, k) FROM t.big;
SELECT flag, var_pop(v), regr_sxy(v, id), regr_syy(v, id) FROM t.big GROUP BY flag;
SELECT regr_slope(v, extract(epoch FROM ts)), regr_count(v, extract(epoch FROM ts)) FROM t.big;
SELECT corr(score * 2 + 1, age - 3), regr_slope(score * 2 + 1, age - 3) FROM t.people WHERE age > 20;
SELECT regr_slope(1, age), regr_r2(1, age), regr_r2(age, 1), corr(age, 1), regr_intercept(age, 1) FROM t.people;
SELECT variance(3), stddev(2.5), var_pop(7) FROM t.people;
SELECT active, stddev(age) + 1 AS s1, variance(age) * 2 AS v2, round(corr(score, age)::numeric, 6) AS c FROM t.people GROUP BY active;
SELECT active, count(*) FROM t.people GROUP BY active HAVING stddev(age) > 1;
SELECT city_id, regr_count(score, age) FROM t.people GROUP BY city_id HAVING regr_count(score, age) > 2 ORDER BY city_id;
SELECT p.active, variance(o.amount)::float8 AS v, corr(o.amount, p.age), regr_slope(o.amount, p.age) FROM t.orders o JOIN t.people p ON o.person_id = p.id GROUP BY p.active;
SELECT c.country, stddev(p.score), regr_count(p.score, c.pop) FROM t.people p JOIN t.cities c ON p.city_id = c.city_id GROUP BY c.country;
SELECT variance(x)::float8 AS v, corr(x, y) FROM (SELECT age AS x, score AS y FROM t.people UNION ALL SELECT amount, id FROM t.orders) u;
SELECT stddev(DISTINCT age) FROM t.people;
-- error
SELECT corr(name, age) FROM t.people;
-- error
SELECT corr(age) FROM t.people;
-- error
SELECT variance(name) FROM t.people;
-- error
SELECT regr_slope(age, score, id) FROM t.people;
-- Aggregation below UNION ALL (query/plan_union.c): each branch folds its
-- own rows (at its owner, federated) and the states merge above.
SELECT count(*), sum(x), avg(x), min(x), max(x), variance(x)::float8 AS v FROM (SELECT age AS x FROM t.people UNION ALL SELECT amount FROM t.orders UNION ALL SELECT pop FROM t.cities) u;
SELECT k, count(*), sum(v), avg(v), stddev(v), regr_slope(v, w) FROM (SELECT active AS k, score AS v, age AS w FROM t.people UNION ALL SELECT flag, v, k FROM t.big UNION ALL SELECT d, b, a FROM t.nulls) u GROUP BY k;
SELECT g, count(*), min(n), max(n) FROM (SELECT category AS g, person_id AS n FROM t.orders UNION ALL SELECT g, person_id FROM t.big) u GROUP BY g HAVING count(*) > 1;
SELECT count(DISTINCT x), count(*) FROM (SELECT city_id AS x FROM t.people UNION ALL SELECT city_id FROM t.cities) u;
SELECT count(*) FROM (SELECT id FROM t.empty UNION ALL SELECT id FROM t.empty) u;
