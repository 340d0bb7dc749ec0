-- A batch of phone fixes: the newest fix per worker moves them, unless the
-- store already holds a newer one (phones send late batches after a tunnel).
-- A phone may say on_duty or off_duty; 'busy' is dispatch's to set and
-- release, so a busy worker stays busy whatever the phone says.
WITH fix AS (
    SELECT DISTINCT ON (f.code) f.code, f.lon, f.lat, f.at, f.status
    FROM unnest(CAST(:codes AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
                CAST(:ats AS timestamptz[]), CAST(:statuses AS text[])) AS f(code, lon, lat, at, status)
    ORDER BY f.code, f.at DESC
)
UPDATE grid_worker w
SET geom = CASE WHEN fix.lon IS NULL THEN w.geom ELSE ST_SetSRID(ST_MakePoint(fix.lon, fix.lat), 4326) END,
    updated_at = fix.at,
    status = CASE WHEN fix.status IS NULL OR w.status = 'busy' THEN w.status ELSE fix.status END
FROM fix
WHERE w.code = fix.code AND (w.updated_at IS NULL OR w.updated_at <= fix.at)
RETURNING w.id, w.code, w.status, w.updated_at, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat;
