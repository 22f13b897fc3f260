package sqlstore

// Migrations lets the external tests read the embedded migrations.
var Migrations = migrations
