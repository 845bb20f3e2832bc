-- A COD remittance that did not match what the order owed: collected - owed
-- (the row's amount is what the order took). Non-zero rows have status
-- 'difference' until the seller resolves them.
alter table payments add column difference bigint not null default 0;
