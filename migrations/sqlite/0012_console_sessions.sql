-- Console sign-ins: the cookie holds a random session id, stored only as
-- its hash, that expires, ends at logout and dies with its token.
create table console_sessions (
    id integer primary key,
    token_id integer not null references api_tokens(id),
    id_hash text not null unique,
    created_at integer not null,
    expires_at integer not null,
    ended_at integer
);
create index console_sessions_token on console_sessions (token_id);
