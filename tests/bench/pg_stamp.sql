-- The PostgreSQL stamp bench's baseline (stampcard-bench --postgres): one
-- durable stamp as the core writes it — the card's record replaced, the
-- journal event inserted — in one transaction, run by pgbench with
-- -M prepared (the bodies are bound parameters: -D card_body=… -D
-- event_body=…, the JSON the core wrote for a stamp). The bench repeats
-- the two statements k times between BEGIN and END for the "one
-- transaction per batch of the core's size" run.
\set card random(:first, :first + :cards - 1)
BEGIN;
UPDATE cards SET body = :card_body WHERE id = :card;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card, now(), 'stamp_added', :event_body);
END;
