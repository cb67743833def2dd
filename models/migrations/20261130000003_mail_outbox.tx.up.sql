-- Outgoing mail, written in the transaction of the change that causes it and
-- delivered afterwards by a sender. A sender claims a row by setting
-- locked_until. Sent rows are kept for a while, then deleted; failed ones stay
-- until someone has looked into them.
-- message_id is the left part of the Message-ID header, fixed at enqueue so
-- that every attempt sends the same one.
CREATE TABLE mail_outbox (
	id {{.ID}},
	message_id TEXT NOT NULL,
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL,
	text_body TEXT NOT NULL,
	html_body TEXT NOT NULL,
	created_at {{.Time}} NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{.Time}} NOT NULL,
	locked_until {{.Time}} NULL,
	sent_at {{.Time}} NULL,
	failed_at {{.Time}} NULL,
	last_error TEXT NOT NULL DEFAULT ''
);

--bun:split

-- Senders look for due mail along this index, which holds only pending rows.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;

--bun:split

-- Retention deletes sent mail by age.
CREATE INDEX mail_outbox_sent_at ON mail_outbox (sent_at);
