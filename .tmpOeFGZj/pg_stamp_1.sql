\set card0 random(:first, :first + :cards - 1)
BEGIN;

UPDATE cards SET body = :card_body WHERE id = :card0;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card0, now(), 'stamp_added', :event_body);
END;
