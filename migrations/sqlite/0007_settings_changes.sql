-- Every change to a shop's settings, with who made it and when: the
-- settings before and after, and the names of the settings that changed.
create table settings_changes (
    id integer primary key autoincrement,
    shop_id integer not null references shops (id),
    actor text not null,
    fields text not null,
    before text not null,
    after text not null,
    created_at integer not null
);
create index settings_changes_shop on settings_changes (shop_id, id);
