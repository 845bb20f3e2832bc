-- chatbill schema, PostgreSQL dialect. Keep in lock-step with ../sqlite/0001_init.sql:
-- same tables, same columns; only key declarations differ.
-- Conventions: money is bigint minor units, instants are bigint epoch
-- milliseconds, enums are text, booleans are bigint 0/1, JSON is text.

create table shops (
    id bigint generated always as identity primary key,
    name text not null,
    currency text not null,
    locale text not null default 'en',
    settings text not null default '{}',
    created_at bigint not null
);

create table channel_accounts (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    channel text not null,
    external_id text not null,
    access_token text,
    created_at bigint not null,
    unique (channel, external_id)
);
create index channel_accounts_shop on channel_accounts (shop_id);

create table api_tokens (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    token_hash text not null unique,
    prefix text not null,
    label text not null,
    role text not null,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint
);
create index api_tokens_shop on api_tokens (shop_id);

create table products (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    name text not null,
    description text not null default '',
    category text not null default '',
    image_url text,
    price bigint not null,
    active bigint not null default 1,
    position bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null,
    deleted_at bigint
);
create index products_shop on products (shop_id, category, position);

create table variants (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    product_id bigint not null references products(id),
    name text not null default '',
    price bigint,
    stock bigint check (stock is null or stock >= 0),
    position bigint not null default 0,
    deleted_at bigint
);
create index variants_product on variants (product_id);

create table customers (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    channel text not null,
    channel_user_id text not null,
    display_name text not null default '',
    locale text,
    phone text,
    address text,
    balance bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null,
    unique (shop_id, channel, channel_user_id)
);
create index customers_shop_name on customers (shop_id, display_name);

create table conversations (
    customer_id bigint primary key references customers(id),
    shop_id bigint not null references shops(id),
    state text not null default '{}',
    last_inbound_at bigint,
    bot_paused bigint not null default 0,
    unread bigint not null default 0,
    total_messages bigint not null default 0,
    last_message_at bigint,
    version bigint not null default 0,
    updated_at bigint not null
);
create index conversations_shop on conversations (shop_id, last_message_at);

create table cart_items (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    customer_id bigint not null references customers(id),
    variant_id bigint not null references variants(id),
    qty bigint not null check (qty > 0),
    added_at bigint not null,
    unique (customer_id, variant_id)
);

create table orders (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    customer_id bigint not null references customers(id),
    code text not null,
    channel text not null,
    currency text not null,
    fulfilment text not null,
    payment_status text not null,
    payment_method text,
    address text,
    subtotal bigint not null,
    shipping_fee bigint not null default 0,
    service_fees bigint not null default 0,
    discount bigint not null default 0,
    total bigint not null,
    paid bigint not null default 0,
    remaining bigint not null,
    carrier text,
    tracking text,
    hold_until bigint,
    note text,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    deleted_at bigint,
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
    shop_id bigint not null references shops(id),
    fulfilment text not null,
    payment_status text not null,
    n bigint not null default 0,
    primary key (shop_id, fulfilment, payment_status)
);

create table order_lines (
    id bigint generated always as identity primary key,
    order_id bigint not null references orders(id),
    product_id bigint not null,
    variant_id bigint not null,
    name text not null,
    variant_name text not null default '',
    unit_price bigint not null,
    qty bigint not null check (qty > 0),
    status text not null default 'active',
    proposed_unit_price bigint,
    proposed_qty bigint,
    position bigint not null default 0
);
create index order_lines_order on order_lines (order_id);

create table order_fees (
    id bigint generated always as identity primary key,
    order_id bigint not null references orders(id),
    label text not null,
    amount bigint not null
);
create index order_fees_order on order_fees (order_id);

create table order_history (
    id bigint generated always as identity primary key,
    order_id bigint not null references orders(id),
    shop_id bigint not null,
    machine text not null,
    from_state text not null,
    to_state text not null,
    event text not null,
    actor text not null,
    reason text,
    at bigint not null
);
create index order_history_order on order_history (order_id, id);

create table payments (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    order_id bigint not null references orders(id),
    method text not null,
    amount bigint not null default 0,
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
    created_at bigint not null,
    decided_at bigint,
    decided_by text,
    unique (shop_id, slip_bank, slip_ref)
);
create index payments_order on payments (order_id);
create index payments_shop_status on payments (shop_id, status, created_at);
create index payments_sha on payments (shop_id, slip_sha256);

create table inbox_events (
    id bigint generated always as identity primary key,
    shop_id bigint,
    channel text not null,
    message_id text not null,
    account_id text not null,
    sender_id text not null,
    kind text not null,
    payload text not null,
    occurred_at bigint not null,
    received_at bigint not null,
    status text not null default 'pending',
    attempts bigint not null default 0,
    lease_until bigint,
    processed_at bigint,
    error text,
    unique (channel, message_id)
);
create index inbox_pending on inbox_events (status, sender_id, occurred_at);

create table outbox_messages (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    customer_id bigint not null references customers(id),
    channel text not null,
    recipient text not null,
    idempotency_key text not null unique,
    purpose text not null,
    payload text not null,
    status text not null default 'pending',
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    lease_until bigint,
    last_error text,
    external_message_id text,
    created_at bigint not null,
    sent_at bigint,
    delivered_at bigint
);
create index outbox_due on outbox_messages (status, next_attempt_at);
create index outbox_customer on outbox_messages (customer_id, id);

create table conversation_messages (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    customer_id bigint not null references customers(id),
    direction text not null,
    author text not null,
    body text not null default '',
    attachment_url text,
    order_id bigint,
    read_at bigint,
    created_at bigint not null
);
create index conversation_messages_customer on conversation_messages (customer_id, id);

create table complaints (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    order_id bigint not null references orders(id),
    customer_id bigint not null references customers(id),
    body text not null,
    image_path text,
    status text not null default 'open',
    created_at bigint not null
);
create index complaints_order on complaints (order_id);

create table balance_ledger (
    id bigint generated always as identity primary key,
    shop_id bigint not null references shops(id),
    customer_id bigint not null references customers(id),
    kind text not null,
    amount bigint not null,
    balance_after bigint not null,
    order_id bigint,
    note text,
    actor text not null,
    created_at bigint not null
);
create index balance_ledger_customer on balance_ledger (customer_id, id);

create table timers (
    id bigint generated always as identity primary key,
    shop_id bigint not null,
    kind text not null,
    ref_id bigint not null,
    due_at bigint not null,
    status text not null default 'pending',
    lease_until bigint,
    unique (kind, ref_id)
);
create index timers_due on timers (status, due_at);

create table idempotency_keys (
    shop_id bigint not null,
    key text not null,
    request_hash text not null,
    status bigint not null,
    response text not null,
    created_at bigint not null,
    primary key (shop_id, key)
);
