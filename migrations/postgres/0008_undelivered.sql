-- Pushes the seller can see: which order a message is about (read from
-- the payload of those already queued), who marked an undelivered one
-- handled and when, and whether the seller asked for it to go as the
-- shop's utility template.
alter table outbox_messages add column order_id bigint;
alter table outbox_messages add column handled_at bigint;
alter table outbox_messages add column handled_by text;
alter table outbox_messages add column via_template bigint not null default 0;
update outbox_messages set order_id = (payload::jsonb ->> 'order_id')::bigint where purpose = 'push';
create index outbox_undelivered on outbox_messages (shop_id, status, id);
create index outbox_order on outbox_messages (order_id);
