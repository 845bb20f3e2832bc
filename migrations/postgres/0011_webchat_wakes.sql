-- The web chat's streams are woken by the customers whose messages were
-- just sent: one look by send time per instance, not one per stream.
create index outbox_webchat_sent on outbox_messages (channel, sent_at);
