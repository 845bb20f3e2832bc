-- A COD difference or a refund due stays on the books as it was written;
-- the seller's resolution (the carrier paid the rest, the money was paid
-- back, written off) is recorded beside it, with who and when.
alter table payments add column resolved_at integer;
alter table payments add column resolved_by text;
alter table payments add column resolution text;
create index payments_open on payments (shop_id, status) where resolved_at is null and status in ('difference', 'refund_due');
