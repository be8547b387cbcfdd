-- Run once by the postgres image when it creates the cluster (docker-compose.yml).
-- The instances connect through PgBouncer, which does not pass plan_cache_mode at connect
-- (app/core/db.py); set it on the database instead: generic plans ignore the filter values
-- and were measured 50x slower on filtered hazard lists.
ALTER DATABASE anjian SET plan_cache_mode = force_custom_plan;
