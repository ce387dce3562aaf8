DROP TRIGGER api_tokens_changed ON api_tokens;
DROP FUNCTION api_tokens_notify();
DROP TABLE api_tokens;
