-- Per-customer leases so one worker (on any instance) processes a customer's
-- events at a time, in order; progress of multi-part sends; why a push waits.
create table inbox_leases (
    sender_key text primary key,
    owner text not null,
    lease_until integer not null
);
alter table inbox_events add column sender_key text not null default '';
-- Only pending events are indexed for the workers: the index stays small
-- however long the inbox grows, and intake maintains one index fewer.
drop index inbox_pending;
create index inbox_pending_by_sender on inbox_events (sender_key, occurred_at, id) where status = 'pending';
alter table outbox_messages add column parts_sent integer not null default 0;
alter table outbox_messages add column held_reason text;
create index outbox_pending_customer on outbox_messages (customer_id, status, id);
