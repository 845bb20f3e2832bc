-- Meta caps the Send API per Page (300 calls/s). Every instance draws its
-- sends from one token bucket per Page, and a rate-limit answer pauses the
-- Page for all of them (src/domain/send_budget.rs).
create table send_budgets (
    page_key text primary key,
    milli_calls bigint not null,
    refilled_at bigint not null,
    paused_until bigint not null,
    last_pause_ms bigint not null,
    throttled_rate bigint not null
);
