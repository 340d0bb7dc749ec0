-- Places whose address or name matches what someone typed, best first
-- (command.addresses: the one home of address matching; intake takes the
-- first when it names a building).
--   :q         the typed text, normalised, the district's own prefixes dropped
--   :forms     every normalised form of it (with and without those prefixes)
--   :prefixes  the leading parts of each form down to four characters
--   :contains  '%' || :q || '%', LIKE wildcards in :q escaped
--   :kinds     which places: building, resource, street, community
-- How a place matched, and its score in [0, 1]:
--   exact     its address (name) is one of the forms                        1
--   within    it is a leading part of a form: a room or floor follows       0.6 … 1
--   contains  :q is inside it, a number in it not cut short (民亭街6 ≠ 民亭街60号)  0.6 … 1
--   fuzzy     trigram-near (pg_trgm % or <%, GIN-indexed)                   below 0.6
WITH hits AS (
    SELECT 'building' AS kind, b.id, b.address AS text, b.address, NULL AS name,
           ST_PointOnSurface(b.geom) AS pt
    FROM building b
    WHERE 'building' = ANY(CAST(:kinds AS text[]))
      AND (b.address = ANY(CAST(:prefixes AS text[])) OR b.address LIKE :contains
           OR b.address % :q OR :q <% b.address)
    UNION ALL
    SELECT 'resource', r.id, r.name, NULL, r.name, r.geom
    FROM resource r
    WHERE 'resource' = ANY(CAST(:kinds AS text[]))
      AND (r.name = ANY(CAST(:prefixes AS text[])) OR r.name LIKE :contains OR r.name % :q OR :q <% r.name)
    UNION ALL
    SELECT a.level, a.id, a.name, NULL, a.name, ST_PointOnSurface(a.geom)
    FROM admin_area a
    WHERE a.level IN ('street', 'community') AND a.level = ANY(CAST(:kinds AS text[]))
      AND (a.name = ANY(CAST(:prefixes AS text[])) OR a.name LIKE :contains OR a.name % :q OR :q <% a.name)
), judged AS (
    SELECT h.*,
           CASE WHEN h.text = ANY(CAST(:forms AS text[])) THEN 'exact'
                WHEN h.text = ANY(CAST(:prefixes AS text[])) THEN 'within'
                WHEN h.text LIKE :contains
                     AND NOT (:q ~ '[0-9]$' AND substr(h.text, strpos(h.text, :q) + length(:q), 1) ~ '^[0-9]')
                THEN 'contains'
                ELSE 'fuzzy' END AS match,
           greatest(similarity(h.text, :q), word_similarity(:q, h.text)) AS near
    FROM hits h
)
SELECT j.kind, j.id, j.text AS label, j.address, j.name, ST_X(j.pt) AS lon, ST_Y(j.pt) AS lat, j.match,
       CAST(CASE j.match
           WHEN 'exact' THEN 1.0
           WHEN 'within' THEN 0.6 + 0.4 * length(j.text) / greatest(length(:q), length(j.text) + 1)
           WHEN 'contains' THEN 0.6 + 0.4 * length(:q) / greatest(length(j.text), length(:q) + 1)
           ELSE 0.6 * j.near END AS double precision) AS score,
       g.code AS grid_code
FROM judged j
LEFT JOIN LATERAL (
    SELECT g.code FROM grid g JOIN grid_version v ON v.id = g.version_id AND v.is_current
    WHERE j.pt IS NOT NULL AND ST_Covers(g.geom, j.pt) ORDER BY g.id LIMIT 1
) AS g ON true
ORDER BY score DESC, j.kind = 'building' DESC, length(j.text), j.text, j.id
LIMIT :limit;
