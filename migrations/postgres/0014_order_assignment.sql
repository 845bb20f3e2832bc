-- Who of the shop handles or delivers an order (seed 001: "assign the order
-- to the logistics personnel"): a person's name, or nobody.
alter table orders add column assigned_to text;
create index orders_assigned on orders (shop_id, assigned_to, id);
