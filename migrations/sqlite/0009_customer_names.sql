-- Customer names: where the name came from (the seller typed it, the
-- Messenger profile, or the recipient of the first address), a lower-case
-- key so a search finds "Đức" as "đức" on both databases, the profile
-- picture, and when the Messenger profile is next due to be fetched.
alter table customers add column name_source text not null default '';
alter table customers add column name_key text not null default '';
alter table customers add column picture_url text;
alter table customers add column profile_due_at integer;
alter table customers add column profile_fetched_at integer;
alter table customers add column profile_attempts integer not null default 0;
alter table customers add column profile_error text;
update customers set name_key = lower(display_name), name_source = case when display_name = '' then '' else 'seller' end;
update customers set profile_due_at = created_at where channel = 'messenger' and display_name = '';
create index customers_profile_due on customers (profile_due_at) where profile_due_at is not null;
create index customers_shop_name_key on customers (shop_id, name_key);
