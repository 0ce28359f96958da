-- Orleans' ADO.NET providers read their SQL from this table by key; the gateway's own scripts fill it.
-- The contract (parameter names, result column names) is Orleans'; the SQL is written for SQLite.
CREATE TABLE OrleansQuery (
    QueryKey  TEXT PRIMARY KEY,
    QueryText TEXT NOT NULL
);
