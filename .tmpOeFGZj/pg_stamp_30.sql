\set card0 random(:first, :first + :cards - 1)
\set card1 random(:first, :first + :cards - 1)
\set card2 random(:first, :first + :cards - 1)
\set card3 random(:first, :first + :cards - 1)
\set card4 random(:first, :first + :cards - 1)
\set card5 random(:first, :first + :cards - 1)
\set card6 random(:first, :first + :cards - 1)
\set card7 random(:first, :first + :cards - 1)
\set card8 random(:first, :first + :cards - 1)
\set card9 random(:first, :first + :cards - 1)
\set card10 random(:first, :first + :cards - 1)
\set card11 random(:first, :first + :cards - 1)
\set card12 random(:first, :first + :cards - 1)
\set card13 random(:first, :first + :cards - 1)
\set card14 random(:first, :first + :cards - 1)
\set card15 random(:first, :first + :cards - 1)
\set card16 random(:first, :first + :cards - 1)
\set card17 random(:first, :first + :cards - 1)
\set card18 random(:first, :first + :cards - 1)
\set card19 random(:first, :first + :cards - 1)
\set card20 random(:first, :first + :cards - 1)
\set card21 random(:first, :first + :cards - 1)
\set card22 random(:first, :first + :cards - 1)
\set card23 random(:first, :first + :cards - 1)
\set card24 random(:first, :first + :cards - 1)
\set card25 random(:first, :first + :cards - 1)
\set card26 random(:first, :first + :cards - 1)
\set card27 random(:first, :first + :cards - 1)
\set card28 random(:first, :first + :cards - 1)
\set card29 random(:first, :first + :cards - 1)
BEGIN;

UPDATE cards SET body = :card_body WHERE id = :card0;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card0, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card1;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card1, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card2;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card2, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card3;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card3, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card4;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card4, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card5;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card5, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card6;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card6, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card7;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card7, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card8;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card8, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card9;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card9, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card10;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card10, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card11;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card11, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card12;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card12, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card13;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card13, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card14;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card14, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card15;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card15, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card16;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card16, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card17;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card17, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card18;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card18, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card19;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card19, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card20;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card20, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card21;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card21, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card22;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card22, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card23;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card23, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card24;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card24, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card25;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card25, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card26;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card26, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card27;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card27, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card28;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card28, now(), 'stamp_added', :event_body);

UPDATE cards SET body = :card_body WHERE id = :card29;
INSERT INTO events (id, card_id, at, type, body) VALUES (nextval('events_seq'), :card29, now(), 'stamp_added', :event_body);
END;
