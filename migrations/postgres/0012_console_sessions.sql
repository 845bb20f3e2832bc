-- Console sign-ins: the cookie holds a random session id, stored only as
-- its hash, that expires, ends at logout and dies with its token.
create table console_sessions (
    id bigint generated always as identity primary key,
    token_id bigint not null references api_tokens(id),
    id_hash text not null unique,
    created_at bigint not null,
    expires_at bigint not null,
    ended_at bigint
);
create index console_sessions_token on console_sessions (token_id);
