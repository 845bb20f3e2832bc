-- chatbill schema, SQLite dialect. Keep in lock-step with ../postgres/0001_init.sql:
-- same tables, same columns; only key declarations differ.
-- Conventions: money is integer minor units, instants are integer epoch
-- milliseconds, enums are text, booleans are integer 0/1, JSON is text.

create table shops (
    id integer primary key,
    name text not null,
    currency text not null,
    locale text not null default 'en',
    settings text not null default '{}',
    created_at integer not null
);

create table channel_accounts (
    id integer primary key,
    shop_id integer not null references shops(id),
    channel text not null,
    external_id text not null,
    access_token text,
    created_at integer not null,
    unique (channel, external_id)
);
create index channel_accounts_shop on channel_accounts (shop_id);

create table api_tokens (
    id integer primary key,
    shop_id integer not null references shops(id),
    token_hash text not null unique,
    prefix text not null,
    label text not null,
    role text not null,
    created_at integer not null,
    last_used_at integer,
    revoked_at integer
);
create index api_tokens_shop on api_tokens (shop_id);

create table products (
    id integer primary key,
    shop_id integer not null references shops(id),
    name text not null,
    description text not null default '',
    category text not null default '',
    image_url text,
    price integer not null,
    active integer not null default 1,
    position integer not null default 0,
    created_at integer not null,
    updated_at integer not null,
    deleted_at integer
);
create index products_shop on products (shop_id, category, position);

create table variants (
    id integer primary key,
    shop_id integer not null references shops(id),
    product_id integer not null references products(id),
    name text not null default '',
    price integer,
    stock integer check (stock is null or stock >= 0),
    position integer not null default 0,
    deleted_at integer
);
create index variants_product on variants (product_id);

create table customers (
    id integer primary key,
    shop_id integer not null references shops(id),
    channel text not null,
    channel_user_id text not null,
    display_name text not null default '',
    locale text,
    phone text,
    address text,
    balance integer not null default 0,
    created_at integer not null,
    updated_at integer not null,
    unique (shop_id, channel, channel_user_id)
);
create index customers_shop_name on customers (shop_id, display_name);

create table conversations (
    customer_id integer primary key references customers(id),
    shop_id integer not null references shops(id),
    state text not null default '{}',
    last_inbound_at integer,
    bot_paused integer not null default 0,
    unread integer not null default 0,
    total_messages integer not null default 0,
    last_message_at integer,
    version integer not null default 0,
    updated_at integer not null
);
create index conversations_shop on conversations (shop_id, last_message_at);

create table cart_items (
    id integer primary key,
    shop_id integer not null references shops(id),
    customer_id integer not null references customers(id),
    variant_id integer not null references variants(id),
    qty integer not null check (qty > 0),
    added_at integer not null,
    unique (customer_id, variant_id)
);

create table orders (
    id integer primary key,
    shop_id integer not null references shops(id),
    customer_id integer not null references customers(id),
    code text not null,
    channel text not null,
    currency text not null,
    fulfilment text not null,
    payment_status text not null,
    payment_method text,
    address text,
    subtotal integer not null,
    shipping_fee integer not null default 0,
    service_fees integer not null default 0,
    discount integer not null default 0,
    total integer not null,
    paid integer not null default 0,
    remaining integer not null,
    carrier text,
    tracking text,
    hold_until integer,
    note text,
    version integer not null default 1,
    created_at integer not null,
    updated_at integer not null,
    deleted_at integer,
    unique (shop_id, code),
    check (paid + remaining = total)
);
create index orders_shop_fulfilment_created on orders (shop_id, fulfilment, created_at);
create index orders_shop_payment_created on orders (shop_id, payment_status, created_at);
create index orders_shop_created on orders (shop_id, created_at);
create index orders_shop_updated on orders (shop_id, updated_at);
create index orders_shop_customer on orders (shop_id, customer_id, created_at);
create index orders_hold on orders (hold_until) where hold_until is not null;

-- Per-tab counts kept in the same transaction as every status change, so the
-- seller's tab bar never scans a million orders.
create table order_status_counts (
    shop_id integer not null references shops(id),
    fulfilment text not null,
    payment_status text not null,
    n integer not null default 0,
    primary key (shop_id, fulfilment, payment_status)
);

create table order_lines (
    id integer primary key,
    order_id integer not null references orders(id),
    product_id integer not null,
    variant_id integer not null,
    name text not null,
    variant_name text not null default '',
    unit_price integer not null,
    qty integer not null check (qty > 0),
    status text not null default 'active',
    proposed_unit_price integer,
    proposed_qty integer,
    position integer not null default 0
);
create index order_lines_order on order_lines (order_id);

create table order_fees (
    id integer primary key,
    order_id integer not null references orders(id),
    label text not null,
    amount integer not null
);
create index order_fees_order on order_fees (order_id);

create table order_history (
    id integer primary key,
    order_id integer not null references orders(id),
    shop_id integer not null,
    machine text not null,
    from_state text not null,
    to_state text not null,
    event text not null,
    actor text not null,
    reason text,
    at integer not null
);
create index order_history_order on order_history (order_id, id);

create table payments (
    id integer primary key,
    shop_id integer not null references shops(id),
    order_id integer not null references orders(id),
    method text not null,
    amount integer not null default 0,
    status text not null,
    slip_sha256 text,
    slip_path text,
    thumb_path text,
    slip_bank text,
    slip_ref text,
    slip_phash text,
    prechecks text not null default '{}',
    reject_reason text,
    source_url text,
    created_at integer not null,
    decided_at integer,
    decided_by text,
    unique (shop_id, slip_bank, slip_ref)
);
create index payments_order on payments (order_id);
create index payments_shop_status on payments (shop_id, status, created_at);
create index payments_sha on payments (shop_id, slip_sha256);

create table inbox_events (
    id integer primary key,
    shop_id integer,
    channel text not null,
    message_id text not null,
    account_id text not null,
    sender_id text not null,
    kind text not null,
    payload text not null,
    occurred_at integer not null,
    received_at integer not null,
    status text not null default 'pending',
    attempts integer not null default 0,
    lease_until integer,
    processed_at integer,
    error text,
    unique (channel, message_id)
);
create index inbox_pending on inbox_events (status, sender_id, occurred_at);

create table outbox_messages (
    id integer primary key,
    shop_id integer not null references shops(id),
    customer_id integer not null references customers(id),
    channel text not null,
    recipient text not null,
    idempotency_key text not null unique,
    purpose text not null,
    payload text not null,
    status text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at integer not null,
    lease_until integer,
    last_error text,
    external_message_id text,
    created_at integer not null,
    sent_at integer,
    delivered_at integer
);
create index outbox_due on outbox_messages (status, next_attempt_at);
create index outbox_customer on outbox_messages (customer_id, id);

create table conversation_messages (
    id integer primary key,
    shop_id integer not null references shops(id),
    customer_id integer not null references customers(id),
    direction text not null,
    author text not null,
    body text not null default '',
    attachment_url text,
    order_id integer,
    read_at integer,
    created_at integer not null
);
create index conversation_messages_customer on conversation_messages (customer_id, id);

create table complaints (
    id integer primary key,
    shop_id integer not null references shops(id),
    order_id integer not null references orders(id),
    customer_id integer not null references customers(id),
    body text not null,
    image_path text,
    status text not null default 'open',
    created_at integer not null
);
create index complaints_order on complaints (order_id);

create table balance_ledger (
    id integer primary key,
    shop_id integer not null references shops(id),
    customer_id integer not null references customers(id),
    kind text not null,
    amount integer not null,
    balance_after integer not null,
    order_id integer,
    note text,
    actor text not null,
    created_at integer not null
);
create index balance_ledger_customer on balance_ledger (customer_id, id);

create table timers (
    id integer primary key,
    shop_id integer not null,
    kind text not null,
    ref_id integer not null,
    due_at integer not null,
    status text not null default 'pending',
    lease_until integer,
    unique (kind, ref_id)
);
create index timers_due on timers (status, due_at);

create table idempotency_keys (
    shop_id integer not null,
    key text not null,
    request_hash text not null,
    status integer not null,
    response text not null,
    created_at integer not null,
    primary key (shop_id, key)
);
