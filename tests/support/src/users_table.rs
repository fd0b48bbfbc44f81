//! The users table of the end-to-end tests on PostgreSQL, with a change table kept by a
//! trigger (so delta imports see deletes). The benchmarks seed the same table, so that
//! what they measure is what the tests check.

/// The DDL of the users table and its change table.
pub const POSTGRES_USERS_TABLE: &str = "
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    user_name TEXT NOT NULL,
    external_id TEXT,
    active BOOLEAN NOT NULL DEFAULT true,
    display_name TEXT,
    given_name TEXT,
    family_name TEXT,
    email TEXT,
    employee_number TEXT,
    department TEXT
);
CREATE UNIQUE INDEX users_user_name ON users (lower(user_name));
CREATE TABLE user_changes (seq BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL);
CREATE FUNCTION note_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_changes (user_id) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    RETURN NULL;
END $$;
CREATE TRIGGER users_changes AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION note_user_change();
";
