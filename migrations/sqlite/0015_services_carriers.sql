-- Extra services ride on the fee rows (seed 000): `service` names the shop's
-- service, `charging` when it is owed, `done` whether the shop did it.
alter table order_fees add column service text;
alter table order_fees add column charging text;
alter table order_fees add column done integer not null default 0;

-- The carrier's last word on a parcel ("out for delivery", "failed attempt").
alter table orders add column tracking_status text;
create index orders_cod_carrier on orders (shop_id, carrier, fulfilment) where payment_status = 'cod_pending';

-- A carrier pays COD in one transfer for many orders (seed 002): the
-- remittance, the orders it paid, and what did not match.
create table cod_remittances (
    id integer primary key,
    shop_id integer not null references shops(id),
    carrier text not null,
    reference text not null,
    amount integer not null,
    allocated integer not null,
    difference integer not null,
    note text,
    created_by text not null,
    created_at integer not null,
    unique (shop_id, carrier, reference)
);
create index cod_remittances_shop on cod_remittances (shop_id, id);

create table cod_remittance_orders (
    remittance_id integer not null references cod_remittances(id),
    order_id integer not null references orders(id),
    amount integer not null,
    primary key (remittance_id, order_id)
);
create index cod_remittance_orders_order on cod_remittance_orders (order_id);
