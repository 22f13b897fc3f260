-- +goose Up
-- Profile pictures: the blob keys of a user's or an artist's avatar and
-- header image ('' when none), and the URLs of a remote actor's icon and
-- image as its server publishes them.
ALTER TABLE users ADD COLUMN avatar_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN header_key TEXT NOT NULL DEFAULT '';
ALTER TABLE artists ADD COLUMN avatar_key TEXT NOT NULL DEFAULT '';
ALTER TABLE artists ADD COLUMN header_key TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_actors ADD COLUMN icon_url TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_actors ADD COLUMN image_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE remote_actors DROP COLUMN image_url;
ALTER TABLE remote_actors DROP COLUMN icon_url;
ALTER TABLE artists DROP COLUMN header_key;
ALTER TABLE artists DROP COLUMN avatar_key;
ALTER TABLE users DROP COLUMN header_key;
ALTER TABLE users DROP COLUMN avatar_key;
