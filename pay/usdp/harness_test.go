package usdp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"errors"
	"log/slog"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/pay/usdp"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
)

// The test token: TestToken.sol compiled by testdata/compile.js (solc
// 0.8.37 from npm); TestCompiledTokenMatchesSource checks these bytes.
var (
	//go:embed testdata/TestToken.bin
	tokenBin string
	//go:embed testdata/TestToken.abi
	tokenABI string
)

const node = "music.test"

// env is one test's world: a fresh simulated Ethereum chain with the test
// token deployed, funded keys, and the node's ledger and wallet records in
// a real SQLite store (storetest checks the records on PostgreSQL too).
type env struct {
	t       *testing.T
	ctx     context.Context
	sim     *simulated.Backend
	client  simulated.Client
	chainID *big.Int
	abi     abi.ABI
	tok     *bind.BoundContract
	token   common.Address
	dec     uint8
	nonces  map[common.Address]uint64

	minter, payout *ecdsa.PrivateKey
	alice, bob     *ecdsa.PrivateKey // listeners' wallets
	stranger       *ecdsa.PrivateKey // a sender nobody registered
	artistWallet   *ecdsa.PrivateKey
	deposit        common.Address // the node's deposit address

	db       *sqlstore.DB
	store    nineten.WalletStore
	ledger   *embedded.Contract
	clock    *clocktest.Clock
	registry *usdp.Registrar
	logs     *syncBuffer
	log      *slog.Logger
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func address(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

func newEnv(t *testing.T, decimals uint8) *env {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), dec: decimals, nonces: map[common.Address]uint64{}}
	e.minter, e.payout, e.alice, e.bob, e.stranger, e.artistWallet = newKey(t), newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)
	e.deposit = address(newKey(t))
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil) // 100 ether each, for gas
	alloc := types.GenesisAlloc{}
	for _, k := range []*ecdsa.PrivateKey{e.minter, e.payout, e.alice, e.bob, e.stranger, e.artistWallet} {
		alloc[address(k)] = types.Account{Balance: eth}
	}
	e.sim = simulated.NewBackend(alloc)
	t.Cleanup(func() { e.sim.Close() })
	e.client = e.sim.Client()
	var err error
	if e.chainID, err = e.client.ChainID(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.abi, err = abi.JSON(strings.NewReader(tokenABI)); err != nil {
		t.Fatal(err)
	}
	ctor, err := e.abi.Pack("", decimals)
	if err != nil {
		t.Fatal(err)
	}
	addr, deploy, err := bind.DeployContract(e.opts(e.minter), common.FromHex(strings.TrimSpace(tokenBin)), e.client, ctor)
	if err != nil {
		t.Fatal(err)
	}
	e.mineTx(deploy)
	e.token = addr
	e.tok = bind.NewBoundContract(addr, e.abi, e.client, e.client, e.client)
	var mints []*types.Transaction
	for _, k := range []*ecdsa.PrivateKey{e.alice, e.bob, e.stranger, e.payout} {
		mints = append(mints, e.transact(e.minter, "mint", address(k), e.usd(1000)))
	}
	e.mineTx(mints...)

	e.clock = clocktest.New(time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC))
	e.db = e.openDB()
	e.store = e.db
	_, lkey, _ := ed25519.GenerateKey(rand.Reader)
	e.ledger = &embedded.Contract{Ledger: &embedded.Ledger{Store: e.db, Key: lkey, Clock: e.clock}, Node: node}
	e.logs = &syncBuffer{}
	e.log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.registry = &usdp.Registrar{Store: e.store, Clock: e.clock, Domain: node, URI: "https://" + node, ChainID: e.chainID.Int64()}
	return e
}

// opts signs with k, numbering its transactions here: the simulated
// pool's pending nonce lags behind a transaction just sent.
// users is how many users each database has: user n has ID n.
const users = 9

// openDB opens a new SQLite database with users 1 to 9.
func (e *env) openDB() *sqlstore.DB {
	e.t.Helper()
	db, err := sqlstore.Open(e.ctx, filepath.Join(e.t.TempDir(), "9ten.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	for n := 1; n <= users; n++ {
		u := &nineten.User{Username: "user" + strconv.Itoa(n), Role: nineten.RoleListener, CreatedAt: e.clock.Now()}
		if err := db.CreateUser(e.ctx, u); err != nil || u.ID != nineten.ID(n) {
			e.t.Fatalf("user %d: id %d, %v", n, u.ID, err)
		}
	}
	return db
}

func (e *env) opts(k *ecdsa.PrivateKey) *bind.TransactOpts {
	e.t.Helper()
	o := bind.NewKeyedTransactor(k, e.chainID)
	o.Context = e.ctx
	a := address(k)
	n, ok := e.nonces[a]
	if !ok {
		var err error
		if n, err = e.client.NonceAt(e.ctx, a, nil); err != nil {
			e.t.Fatal(err)
		}
	}
	e.nonces[a] = n + 1
	o.Nonce = new(big.Int).SetUint64(n)
	return o
}

// transact sends a token call from k; it is mined by the next commit.
func (e *env) transact(k *ecdsa.PrivateKey, method string, args ...any) *types.Transaction {
	e.t.Helper()
	tx, err := e.tok.Transact(e.opts(k), method, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", method, err)
	}
	return tx
}

// pay sends units from k to the node's deposit address.
func (e *env) pay(k *ecdsa.PrivateKey, units *big.Int) *types.Transaction {
	e.t.Helper()
	return e.transact(k, "transfer", e.deposit, units)
}

// commit seals n blocks.
func (e *env) commit(n int) {
	for range n {
		e.sim.Commit()
	}
}

// mine seals blocks until every transaction of hashes is in one. The
// simulated miner fills a block within a time allowance and, on a busy
// machine, may leave a transaction for the next block; tests count
// confirmations from where a transaction landed, not from the commits.
func (e *env) mine(hashes ...common.Hash) {
	e.t.Helper()
	for range 20 {
		e.sim.Commit()
		missing := 0
		for _, h := range hashes {
			if _, err := e.client.TransactionReceipt(e.ctx, h); err != nil {
				missing++
			}
		}
		if missing == 0 {
			return
		}
	}
	e.t.Fatalf("transactions %v not mined after 20 blocks", hashes)
}

// mineTx mines txs.
func (e *env) mineTx(txs ...*types.Transaction) {
	e.t.Helper()
	hs := make([]common.Hash, len(txs))
	for i, tx := range txs {
		hs[i] = tx.Hash()
	}
	e.mine(hs...)
}

func (e *env) head() *types.Header {
	e.t.Helper()
	h, err := e.client.HeaderByNumber(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// usd is n dollars in the token's base units.
func (e *env) usd(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e.dec)), nil))
}

func (e *env) tokenBalance(a common.Address) *big.Int {
	e.t.Helper()
	var out []any
	if err := e.tok.Call(&bind.CallOpts{Context: e.ctx}, &out, "balanceOf", a); err != nil {
		e.t.Fatal(err)
	}
	return out[0].(*big.Int)
}

func (e *env) watcher(confirmations uint64) *usdp.Watcher {
	return e.watcherOn(e.client, confirmations)
}

func (e *env) watcherOn(c usdp.Chain, confirmations uint64) *usdp.Watcher {
	return &usdp.Watcher{
		Chain: c, Store: e.store, Ledger: e.ledger, Token: e.token, Deposit: []common.Address{e.deposit},
		Confirmations: confirmations, Clock: e.clock, Log: e.log,
	}
}

func (e *env) poll(w *usdp.Watcher) usdp.PollResult {
	e.t.Helper()
	r, err := w.Poll(e.ctx)
	if err != nil {
		e.t.Fatalf("poll: %v", err)
	}
	return r
}

// balance is a listener's balance on the ledger.
func (e *env) balance(user nineten.ID) nineten.Micro {
	e.t.Helper()
	m, err := e.ledger.Balance(e.ctx, nineten.AccountListener, strconv.FormatInt(int64(user), 10))
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// personalSign signs message with k as a browser wallet does
// (personal_sign): EIP-191 digest, v as 27/28.
func personalSign(t *testing.T, k *ecdsa.PrivateKey, message string) string {
	t.Helper()
	sig, err := crypto.Sign(accounts.TextHash([]byte(message)), k)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return hexutil.Encode(sig)
}

// register registers k's wallet to user through the challenge.
func (e *env) register(user nineten.ID, k *ecdsa.PrivateKey) {
	e.t.Helper()
	c, err := e.registry.Challenge(e.ctx, user, address(k).Hex())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.registry.Register(e.ctx, user, c.Nonce, personalSign(e.t, k, c.Message)); err != nil {
		e.t.Fatal(err)
	}
}

// deposits lists the recorded deposits of the watched token.
func (e *env) deposits(w *usdp.Watcher, state nineten.ChainDepositState) []nineten.ChainDeposit {
	e.t.Helper()
	ds, err := e.store.ChainDeposits(e.ctx, w.ChainKey(), state, nineten.Page{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// faultyChain is the real chain client with faults injected: what a
// flaky endpoint or an unlucky moment does. It mocks nothing of ours.
type faultyChain struct {
	simulated.Client
	// afterFilter runs after FilterLogs has answered, before the logs
	// are used: a reorganisation can strike there.
	afterFilter func()
	// twice delivers every log twice.
	twice bool
	// sendThenFail broadcasts a transaction and then reports an error, as
	// a connection that drops after the node got the request.
	sendThenFail bool
}

func (f *faultyChain) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	logs, err := f.Client.FilterLogs(ctx, q)
	if f.afterFilter != nil {
		f.afterFilter()
		f.afterFilter = nil
	}
	if f.twice {
		logs = append(logs, logs...)
	}
	return logs, err
}

func (f *faultyChain) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	err := f.Client.SendTransaction(ctx, tx)
	if err == nil && f.sendThenFail {
		return errConnectionReset
	}
	return err
}

var errConnectionReset = errors.New("read tcp 127.0.0.1:8545: connection reset by peer")
