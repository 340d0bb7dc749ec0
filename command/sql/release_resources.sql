-- End the event's active resource assignments: the resources are free again.
UPDATE assignment SET released_at = :at
WHERE event_id = :id AND kind = 'resource' AND released_at IS NULL
RETURNING resource_id;
