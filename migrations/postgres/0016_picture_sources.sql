-- The console finds the kept copy of a picture a customer sent by the link
-- the chat app gave for it.
create index payments_source on payments (shop_id, source_url) where source_url is not null;
create index claim_photos_source on claim_photos (shop_id, source);
