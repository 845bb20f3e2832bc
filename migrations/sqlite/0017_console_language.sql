-- The language a person reads the console, bills and shipping notes in;
-- null: the shop's language.
alter table api_tokens add column language text;
