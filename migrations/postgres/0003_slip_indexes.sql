-- The slip worker's queue and its "similar image" hint read by these; both
-- scanned every payment before, which grew with the shop's history.
create index payments_fetching on payments (id) where status = 'fetching';
create index payments_shop_recent on payments (shop_id, id);
