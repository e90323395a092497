-- Runs once, when the postgres container initialises an empty data volume.
-- One database per service, each owned by a role of its own: a service can neither read
-- nor migrate another's tables, and each can later move to its own server unchanged.
-- The passwords only guard a local compose network; real deployments inject their own.

CREATE ROLE ingest LOGIN PASSWORD 'ingest';
CREATE DATABASE ingest OWNER ingest;

CREATE ROLE boleto LOGIN PASSWORD 'boleto';
CREATE DATABASE boleto OWNER boleto;

CREATE ROLE mailer LOGIN PASSWORD 'mailer';
CREATE DATABASE mailer OWNER mailer;
