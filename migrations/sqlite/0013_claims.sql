-- Claims: a customer's complaint about an order as a workflow (reason,
-- words, several photos kept in the media folder, open → in progress →
-- resolved with an outcome, and its history). The old complaints become
-- open claims of reason "other".
create table claims (
    id integer primary key,
    shop_id integer not null references shops(id),
    order_id integer not null references orders(id),
    customer_id integer not null references customers(id),
    -- One filing in chat, however many messages it takes.
    filing_key text not null,
    reason text not null,
    body text not null default '',
    status text not null default 'open',
    outcome text,
    outcome_note text,
    refund_amount integer,
    version integer not null default 1,
    created_at integer not null,
    updated_at integer not null,
    unique (shop_id, filing_key)
);
create index claims_shop_status on claims (shop_id, status, id);
create index claims_order on claims (order_id, id);

create table claim_photos (
    id integer primary key,
    claim_id integer not null references claims(id),
    shop_id integer not null,
    -- Where the picture came from: the chat app's link, or upload:<name>.
    source text not null,
    sha256 text,
    status text not null default 'fetching',
    problem text,
    attempts integer not null default 0,
    lease_until integer not null default 0,
    created_at integer not null
);
create index claim_photos_claim on claim_photos (claim_id, id);
create index claim_photos_due on claim_photos (status, lease_until);

create table claim_history (
    id integer primary key,
    claim_id integer not null references claims(id),
    from_status text,
    to_status text not null,
    actor text not null,
    note text,
    at integer not null
);
create index claim_history_claim on claim_history (claim_id, id);

insert into claims (shop_id, order_id, customer_id, filing_key, reason, body, status, created_at, updated_at)
    select shop_id, order_id, customer_id, 'complaint:' || id, 'other', body, 'open', created_at, created_at
    from complaints;
insert into claim_photos (claim_id, shop_id, source, created_at)
    select c.id, k.shop_id, k.image_path, k.created_at
    from complaints k join claims c on c.shop_id = k.shop_id and c.filing_key = 'complaint:' || k.id
    where k.image_path is not null;
insert into claim_history (claim_id, from_status, to_status, actor, at)
    select id, null, 'open', 'customer', created_at from claims;
