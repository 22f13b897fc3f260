package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Payment settings come from flags, the environment or the config file
// like every other; secrets are read from files only their owner can read
// and never logged; a half-configured payment method stops the node with a
// message that says what is missing.
func TestPaymentSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	const secret = "whsec_settings_test_0123456789"
	keyFile := write("payout.key", key+"\n", 0o600)
	openKey := write("payout-open.key", key, 0o644)
	secretFile := write("webhook.secret", secret+"\nwhsec_the_previous_secret_0123\n", 0o600)

	parse := func(env map[string]string, args ...string) payOptions {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		var o options
		cmd := &cobra.Command{Use: "serve"}
		nodeFlags(cmd, &o)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		if err := applyConfig(cmd); err != nil {
			t.Fatal(err)
		}
		return o.Pay
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	o := parse(map[string]string{"NINETEN_USDP_PAYOUT_KEY_FILE": keyFile, "NINETEN_USDP_DEPOSIT": "0x00000000000000000000000000000000000000d1,0x00000000000000000000000000000000000000d2"},
		"--eth-rpc", "http://127.0.0.1:1", "--eth-chain-id", "5", "--usdp-token", "0x00000000000000000000000000000000000000aa")
	c, err := openUSDP(o, nil, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	i := c.Info()
	if i.ChainID != 5 || len(i.Deposit) != 2 || !i.Payouts || i.Chain != "eip155:5/0x00000000000000000000000000000000000000aa" {
		t.Errorf("chain info %+v", i)
	}

	for _, bad := range []struct {
		o    func(*payOptions)
		says string
	}{
		{func(o *payOptions) { o.PayoutKeyFile = openKey }, "chmod 600"},
		{func(o *payOptions) { o.Deposit = nil }, "--usdp-deposit"},
		{func(o *payOptions) { o.Token = "" }, "--usdp-token: give the token's address on chain 5"},
		{func(o *payOptions) { o.EthRPC = "eth.example" }, "--eth-rpc"},
		{func(o *payOptions) { o.PayoutKeyFile = write("bad.key", "not a key", 0o600) }, "not a 32-byte hex"},
	} {
		o2 := o
		bad.o(&o2)
		if _, err := openUSDP(o2, nil, nil, log); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("got %v, want an error saying %q", err, bad.says)
		}
	}

	_, err = openGateway(parse(nil, "--gateway", "acme", "--gateway-webhook-secret-file", secretFile, "--gateway-api", "https://api.acme.example/v1"), nil, nil, log)
	if err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("a payouts API without a key: %v", err)
	}
	t.Setenv("NINETEN_GATEWAY_API_KEY", "sk_from_the_environment")
	g, err := openGateway(parse(nil, "--gateway", "acme", "--gateway-webhook-secret-file", secretFile, "--gateway-api", "https://api.acme.example/v1"), nil, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Secrets) != 2 || string(g.APIKey) != "sk_from_the_environment" {
		t.Errorf("gateway secrets %d, key from the environment %v", len(g.Secrets), string(g.APIKey) == "sk_from_the_environment")
	}
	if _, err := openGateway(parse(nil, "--gateway", "Acme Pay", "--gateway-webhook-secret", secret), nil, nil, log); err == nil {
		t.Error("a gateway name with spaces was taken")
	}
	if _, err := openGateway(parse(nil, "--gateway", "acme", "--gateway-webhook-secret", ""), nil, nil, log); err == nil || !strings.Contains(err.Error(), "no webhook secret") {
		t.Errorf("a gateway without a secret: %v", err)
	}
	log.Info("configured", "gateway", g, "key", g.APIKey)
	if l := logs.String(); strings.Contains(l, key) || strings.Contains(l, secret) || strings.Contains(l, "sk_from_the_environment") {
		t.Errorf("a secret was logged:\n%s", l)
	}
}
