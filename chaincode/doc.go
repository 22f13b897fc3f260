// Package chaincode is the payment contract of 9ten: the rules that move a
// listener's $10 a month to their node operator and their favourite
// artists. It is written once and run two ways: in-process over an
// embedded ledger, and as Hyperledger Fabric chaincode. It therefore
// imports only the standard library, never reads a clock (every operation
// is told the node and the month), never iterates a map to produce output,
// and uses no fractional numbers: all money is whole micro-dollars
// (1 USD = 1,000,000 micro-USD) in an int64, with every sum checked for
// overflow.
//
// # The promise
//
// A listener pays $10 for a month. On the 1st, $1 of it goes to the
// operator of their node (the server they listen on) and $9 into that
// month's pool. By the 25th, the pool is paid out: each listener's $9 goes
// to the (at most) 9 artists that listener listened to most that month, in
// proportion to verified listening, exactly to the micro-dollar. Nobody
// else's listening changes where your $9 goes.
//
// # Where the money is
//
// Every amount sits in an account, and every movement is a transaction
// whose debits equal its credits:
//
//	external:<node>          the outside world: a deposit (a USDP transfer or a
//	                         card payment) is debited here, a payout credited here
//	listener:<node>/<id>     a listener's prepaid balance
//	escrow:<node>/<month>    $10s paid for a month that has not started yet
//	operator:<node>          the node operator's $1s
//	pool:<node>/<month>      the month's $9s, until settlement
//	held:<node>/<id>         a listener's $9s from months without listening
//	artist:<node>/<id>       an artist's earnings (artists of any node); those of
//	                         another node are paid out by the node whose listeners paid them
//
// Deposits are credited once: each carries the id of the outside payment
// (for USDP "usdp:<transaction hash>:<log index>"), and a second deposit
// with the same id is refused as "already credited", returning the first
// transaction; it never credits twice. USDP has 18 decimals; an amount is
// converted exactly (FromUSDP) and the part smaller than a micro-dollar is
// returned to the caller to record, not dropped.
//
// # Conservation
//
// Money is never created or destroyed. The rule we check: the balances of
// all accounts, the external ones included, add up to exactly zero. Since a
// node's external account is debited with every deposit and credited with
// every payout, this says the same as: the money inside (listeners,
// escrow, pools, held, operators, artists) equals the money that came in
// minus the money paid out. Only external accounts may be negative.
// Conservation checks this; Audit replays every transaction from the start
// and checks that it reproduces every balance.
//
// # Subscriptions
//
// A subscription is active (paid), in grace, cancelled or expired.
//   - Subscribing takes $10 from the listener's balance for one month. If
//     that month has already started (was opened), the $1 and $9 are split
//     at once. A month is a month: subscribing on the 20th costs the full
//     $10 and covers the month's whole listening. Months already settled
//     cannot be bought.
//   - Before each month the node renews every subscription from the
//     balance. If the balance is short, the subscription goes into grace
//     for that month: the listener is not charged and is not in that
//     month's pool, and can top up and be renewed until the month is
//     settled. If the next month also cannot be paid, it expires.
//   - Cancelling stops renewal; the months already paid still count in
//     full (there is no refund). A subscription in grace expires at once.
//
// # Settlement: who gets your $9
//
// The node reports, for each listener and artist, the month's eligible
// listens (each at least 30 seconds, verified by the node) and the seconds
// heard. For each listener:
//  1. Artists are ranked by seconds heard, most first. Equal seconds: more
//     listens first. Still equal: by a fixed tie-breaker, the SHA-256 hash
//     of the listener id, a newline and the artist ("<node>/<id>"), lower
//     hash first. It favours no part of the alphabet, an artist's name
//     cannot win everybody's ties (the order differs per listener), and
//     anybody can recompute it.
//  2. The first 9 (or fewer, if the listener heard fewer artists) share the
//     money in proportion to their seconds heard. Each gets the whole
//     micro-dollars of their exact share; the few micro-dollars left over
//     go one each to the artists whose exact shares had the largest
//     fractions, ties to the better-ranked artist (the largest-remainder
//     method). The shares always add up to exactly the listener's money.
//
// Artists on other nodes are paid the same way; each node's payments are
// summed into per-artist statements (StatementsFor) that the node sends to
// the artists' home nodes.
//
// # A month without listening
//
// If a listener paid for a month but listened to nothing eligible, their
// $9 is not given to anybody else: it is held for them
// (held:<node>/<id>). The next month they listen, everything held is added
// to that month's $9 and split among that month's artists. After 3
// consecutive settled months without listening (while money is held,
// whether or not they still subscribe), everything held, including the
// third month's $9, is refunded to their balance. The operator's $1 is
// not affected.
//
// Listening by someone who neither paid for the month nor has held money
// pays nothing; it is listed as ignored in the settlement.
//
// # Once and in order
//
// Opening a month and settling it happen once per node and month: calling
// them again returns the first result and moves nothing (settling again
// with different listening is refused). Months are settled in order. Every
// transaction is numbered per node and stored; each operation that
// changes anything emits one event for auditors.
//
// A settlement records the digest of the listening it was given, so that
// "the same listening" does not depend on the order of the aggregates, and
// anybody holding a month's totals can check they were the input: "v2:"
// and the hex SHA-256 of "9ten listening v2\n", then the number of artists
// and each artist ("<node>/<id>", in lexical order) as its length and its
// bytes, then the number of listeners and, for each listener in lexical
// order, its length and bytes, the number of its aggregates and, for each
// of them in order of artist, the artist's place in the artist list (from
// 0), the listens and the seconds; every number an unsigned varint as
// encoding/binary writes it. (Months settled before this form have the
// SHA-256 of one text line "listener TAB artist TAB listens TAB seconds" per
// aggregate, in the same order, and are compared that way.)
//
// # How transactions are recorded
//
// A transaction is stored under tx/<node>/<number, 20 digits>, as JSON
// (the Tx type). A settlement records one transaction per listener, and a
// node may have a million listeners: stored one key each, that is a million
// state writes, each kept twice by a ledger (in its state and in its log).
// So a settlement's transactions are stored in batches of consecutive
// numbers, as text, under the key of the batch's first transaction:
//
//	settle <node> <YYYY-MM> <first> <last>
//	settle ann pool=9000000 held=9000000 | 4=6000000 17=12000000
//	hold bob pool=9000000 | held=9000000
//	refund cy held=27000000 | listener=27000000
//
// The header names the node, the month and the batch's first and last
// transaction numbers; each line after it is one transaction, numbered in
// turn: the operation (settle, hold or refund), the listener, the inputs,
// "|", the outputs. A leg is "<account>=<micro-USD>", the account written
// short: pool is pool:<node>/<YYYY-MM>, held is held:<node>/<listener>,
// listener is listener:<node>/<listener>, and a number n is the artist
// account of the n-th artist (from 0) of the settlement's index. A settle
// line's outputs are the artists paid, in rank order (an artist whose share
// rounds to 0 is left out).
//
// The index, under settle/<node>/<YYYY-MM>, lists the batches (the first
// transaction number and listener of each, so that one listener's
// transaction is found without reading the others: SettlementOf) and then
// the artists the settlement paid, one "<node>/<id>" per line, the most
// paid first (ties in lexical order), so that the artists named most often
// have the shortest numbers:
//
//	batches 2
//	101 ann
//	1125 kim
//	artists 3
//	a.example/7
//	b.example/1
//	b.example/x
//
// Events (and so Audit) expands batches into their transactions, numbered
// as if stored one by one: an auditor replays them like any other. What a
// node's listeners paid each artist in a month is kept per artist node:
// stmt/<YYYY-MM>/<artist node>/<paying node> holds a line "<artist id>
// <micro-USD>" per artist, in lexical order (StatementsFor, StatementsTo).
//
// # Listening reports
//
// The listening a month is paid from is written down first: every node
// anchors the SHA-256 of each signed daily and monthly listening report
// (AnchorReport: report id, day or month, hash, signer) under
// anchor/<node>/<report id>. Anchoring the same hash again writes nothing;
// another hash is the report's next version, and every version is kept
// (ReportAnchors), so a report cannot be changed without the ledger
// showing it. Once the month is settled a report of it takes no new
// version: what was paid from is final.
package chaincode
