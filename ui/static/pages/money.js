// A listener's money: balance, the $10 subscription, how to pay the node
// (a gateway's checkout, USDP from a registered wallet), simulated deposits
// on demo nodes, the history of their ledger transactions, and "where my
// money went": for each month, the artists their $9 paid and how much each
// got, exactly as the ledger recorded it. Artists also see their earnings
// and pay them out; admins see the payments that need a person.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Empty, ErrorBox, Guard, Status } from '../components.js';
import { formatDate, formatMoney, formatTime, plural } from '../format.js';
import { hasRole, useSession } from '../session.js';

const OPS = {
  deposit: 'Deposit',
  subscribe: 'Subscription',
  renew: 'Renewal',
  open: 'Month opened: $1 to the node, $9 to the pool',
  settle: 'Paid to your artists',
  hold: 'Held (no listening that month)',
  refund: 'Refund of held money',
  payout: 'Payout',
};

export function Money() {
  useTitle('Your money');
  return html`<div class="page money">
    <h1>Your money</h1>
    <${Guard}><${MoneyPage} /></${Guard}>
  </div>`;
}

function MoneyPage() {
  const s = useSession();
  const money = useFetch('/api/v1/me/money');
  const methods = useFetch('/api/v1/me/payment-methods');
  // Shared by the deposit instructions and the payout form: a wallet
  // registered in one is offered in the other at once.
  const wallets = useFetch(methods.data?.usdp ? '/api/v1/me/wallets' : null);
  const m = money.data;
  return html`
    ${m ? html`<${ErrorBox} error=${money.error} onRetry=${money.reload} />` : html`<${Status} result=${money} />`}
    ${m && html`
      ${m.simulated_payments && html`<p class="banner simulated" role="note">
        This is a demo node: payments here are <strong>simulated</strong>. No real money moves.
      </p>`}
      <${Summary} m=${m} onChange=${money.reload} />
      <${PayIn} methods=${methods} wallets=${wallets} onChange=${money.reload} />
      ${m.simulated_payments && html`<${SimulatedDeposit} onDone=${money.reload} />`}
      <${WhereItWent} />
      <${History} items=${m.history} />
    `}
    ${hasRole(s.user, 'artist') && html`<${Earnings} methods=${methods.data} wallets=${wallets} />`}
    ${hasRole(s.user, 'admin') && html`<${AdminPayments} />`}`;
}

function Summary({ m, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const sub = m.subscription;
  const act = async (method) => {
    setBusy(true);
    setError(null);
    try {
      await (method === 'PUT' ? api.put('/api/v1/me/subscription') : api.delete('/api/v1/me/subscription'));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const active = sub && (sub.status === 'active' || sub.status === 'grace');
  return html`<section class="money-summary" aria-labelledby="summary-title">
    <h2 id="summary-title" class="visually-hidden">Balance and subscription</h2>
    <dl class="facts">
      <div><dt>Balance</dt><dd data-testid="balance">${formatMoney(m.balance)}</dd></div>
      ${m.held > 0 && html`<div><dt>Held for your artists</dt><dd>${formatMoney(m.held)}</dd></div>`}
      <div><dt>Subscription</dt><dd data-testid="subscription-status">${sub ? describe(sub) : 'Not subscribed'}</dd></div>
      ${m.renews_on && html`<div><dt>Renews on</dt><dd>${new Date(m.renews_on).toLocaleDateString(undefined, { dateStyle: 'long', timeZone: 'UTC' })}</dd></div>`}
    </dl>
    <p class="muted">${formatMoney(m.price)} a month: $1 keeps this node running, $9 goes to the 9 artists you listen to most, in proportion to your listening.</p>
    ${sub?.status === 'active'
      ? html`<button type="button" class="btn" disabled=${busy} onClick=${() => act('DELETE')}>Cancel renewal</button>`
      : html`<button type="button" class="btn primary" disabled=${busy || (active && sub.status !== 'grace')} onClick=${() => act('PUT')}>
          ${sub?.status === 'grace' ? 'Pay this month' : `Subscribe for ${formatMoney(m.price)}`}</button>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

function describe(sub) {
  switch (sub.status) {
    case 'active': return `Active, paid through ${sub.paid}`;
    case 'cancelled': return `Cancelled, paid through ${sub.paid}`;
    case 'grace': return `Unpaid for ${sub.grace}: top up your balance`;
    default: return 'Expired';
  }
}

function SimulatedDeposit({ onDone }) {
  const [dollars, setDollars] = useState('30');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const micro = Math.round(Number(dollars) * 100) * 10000;
      await api.post('/api/v1/me/deposits/simulated', { amount: micro });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${submit} aria-labelledby="sim-title">
    <h2 id="sim-title">Add simulated money</h2>
    <label>Amount in dollars <input type="number" min="1" max="1000" step="0.01" value=${dollars} onInput=${(e) => setDollars(e.currentTarget.value)} /></label>
    <button class="btn" disabled=${busy}>Add simulated money</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

function recentMonths(n) {
  const out = [];
  const d = new Date();
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth() + 1;
  for (let i = 0; i < n; i++) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (--m === 0) { m = 12; y--; }
  }
  return out;
}

function WhereItWent() {
  const months = recentMonths(6);
  const [period, setPeriod] = useState(months[1]);
  const month = useFetch(`/api/v1/me/money/${period}`);
  const d = month.data;
  const heard = d ? d.shares.reduce((a, s) => a + s.seconds_heard, 0) : 0;
  return html`<section aria-labelledby="went-title">
    <div class="section-head">
      <h2 id="went-title">Where my money went</h2>
      <label>Month <select value=${period} onChange=${(e) => setPeriod(e.currentTarget.value)}>
        ${months.map((p) => html`<option value=${p}>${p}</option>`)}
      </select></label>
    </div>
    <${Status} result=${month} />
    ${d && !d.settled && d.shares.length > 0 && html`<p class="muted">Not paid out yet: these are the artists you have listened to most so far. Amounts are settled after the month ends.</p>`}
    ${d && d.shares.length === 0 && (d.held > 0
      ? html`<${Empty}>No eligible listening in ${d.period}: your ${formatMoney(d.held)} is held and goes to the artists of the next month you listen.</${Empty}>`
      : html`<${Empty}>Nothing in ${d.period}. Listens of 30 seconds or more count.</${Empty}>`)}
    ${d && d.shares.length > 0 && html`<div class="table-wrap"><table data-testid="money-went">
      <thead><tr><th>#</th><th>Artist</th><th>Listens</th><th>Time heard</th><th>Share</th>${d.settled && html`<th>Amount</th>`}</tr></thead>
      <tbody>${d.shares.map((s, i) => html`<tr key=${s.artist}>
        <td>${i + 1}</td>
        <td>${s.artist_id ? html`<a href=${`/app/artists/${s.artist_id}`}>${s.name}</a>` : s.name}</td>
        <td>${s.listens}</td>
        <td>${formatTime(s.seconds_heard)}</td>
        <td>${heard ? `${((100 * s.seconds_heard) / heard).toFixed(1)}%` : ''}</td>
        ${d.settled && html`<td class="num">${formatMoney(s.amount)}</td>`}
      </tr>`)}</tbody>
      ${d.settled && html`<tfoot><tr><td colspan="5">Total (ledger transaction ${d.tx.map((t) => `#${t}`).join(', ')})</td><td class="num">${formatMoney(d.total)}</td></tr></tfoot>`}
    </table></div>`}
  </section>`;
}

function History({ items }) {
  return html`<section aria-labelledby="history-title">
    <h2 id="history-title">History</h2>
    ${items.length === 0
      ? html`<${Empty}>No transactions yet.</${Empty}>`
      : html`<div class="table-wrap"><table>
          <thead><tr><th>Ledger #</th><th>What</th><th>Month</th><th>Your balance</th><th>Amount moved</th></tr></thead>
          <tbody>${items.map((e) => html`<tr key=${e.seq}>
            <td>${e.seq}</td>
            <td>${OPS[e.op] || e.op}${refLabel(e.ref)}</td>
            <td>${e.period || ''}</td>
            <td class="num">${e.amount ? formatMoney(e.amount) : ''}</td>
            <td class="num">${formatMoney(e.total)}</td>
          </tr>`)}</tbody>
        </table></div>`}
  </section>`;
}

// refLabel says where a deposit or payout came from or went.
function refLabel(ref) {
  if (!ref) return '';
  if (ref.startsWith('sim:')) return ' (simulated)';
  if (ref.startsWith('usdp:')) return ' (USDP)';
  if (ref.startsWith('gw:')) return ` (${ref.split(':')[1]})`;
  return '';
}

// PayIn tells a listener how to add money: a gateway's checkout, or USDP
// sent from a wallet they registered.
function PayIn({ methods, wallets, onChange }) {
  const d = methods.data;
  if (!d) return html`<${Status} result=${methods} />`;
  const checkouts = d.gateways.filter((g) => g.checkout_url);
  if (!d.usdp && checkouts.length === 0) return null;
  return html`<section aria-labelledby="pay-title" data-testid="pay-in">
    <h2 id="pay-title">Add money</h2>
    ${checkouts.map((g) => html`<p key=${g.name}>
      <a class="btn primary" href=${g.checkout_url} target="_blank" rel="noopener">Pay with ${g.name}</a>
      <span class="muted"> Your balance shows the payment as soon as ${g.name} confirms it.</span>
    </p>`)}
    ${d.usdp && html`<${USDPDeposit} usdp=${d.usdp} wallets=${wallets} onChange=${onChange} />`}
  </section>`;
}

function USDPDeposit({ usdp, wallets, onChange }) {
  return html`<div data-testid="usdp-deposit">
    <h3>Pay in ${usdp.symbol}</h3>
    <ol>
      <li>Register below the wallet you pay from: only transfers from your registered wallets reach your balance.</li>
      <li>Send ${usdp.symbol} (token <code>${usdp.token}</code>, chain ${usdp.chain_id}) from it to
        ${usdp.deposit_addresses.length === 1 ? 'the node\'s address' : 'one of the node\'s addresses'}:
        ${usdp.deposit_addresses.map((a) => html` <code data-testid="deposit-address">${a}</code>`)}</li>
      <li>It is credited after ${plural(usdp.confirmations, 'confirmation')}, about ${Math.max(1, Math.round((usdp.confirmations * 12) / 60))} min: 1 ${usdp.symbol} is $1.</li>
    </ol>
    <p class="muted">Sent from a wallet before you registered it? It is credited as soon as you register that wallet.</p>
    <${Wallets} wallets=${wallets} onChange=${onChange} />
  </div>`;
}

// Wallets lists the user's wallets and registers one: the node issues a
// message naming the wallet, the user signs it with that wallet (a browser
// wallet, or any wallet's "sign message"), and the node checks the
// signature.
function Wallets({ wallets, onChange }) {
  const [address, setAddress] = useState('');
  const [challenge, setChallenge] = useState(null);
  const [signature, setSignature] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const ask = (e) => {
    e.preventDefault();
    run(async () => {
      setChallenge(await api.post('/api/v1/me/wallets/challenges', { address: address.trim() }));
      setSignature('');
    });
  };
  const register = (sig) => run(async () => {
    await api.post('/api/v1/me/wallets', { nonce: challenge.nonce, signature: sig.trim() });
    setChallenge(null);
    setAddress('');
    wallets.reload();
    onChange();
  });
  const useBrowserWallet = () => run(async () => {
    const [account] = await window.ethereum.request({ method: 'eth_requestAccounts' });
    setAddress(account);
  });
  const signInBrowser = () => run(async () => {
    const hex = '0x' + Array.from(new TextEncoder().encode(challenge.message), (b) => b.toString(16).padStart(2, '0')).join('');
    const sig = await window.ethereum.request({ method: 'personal_sign', params: [hex, challenge.address] });
    setSignature(sig);
    await register(sig);
  });
  const remove = (a) => run(async () => {
    if (!confirm(`Unregister ${a}? Transfers from it will no longer reach your balance.`)) return;
    await api.delete(`/api/v1/me/wallets/${a}`);
    wallets.reload();
    onChange();
  });
  const items = wallets.data?.items || [];
  return html`<div aria-labelledby="wallets-title">
    <h3 id="wallets-title">Your wallets</h3>
    <${Status} result=${wallets} />
    ${wallets.data && (items.length === 0
      ? html`<${Empty}>No wallet registered yet.</${Empty}>`
      : html`<ul data-testid="wallets">${items.map((w) => html`<li key=${w.address}>
          <code>${w.address}</code>
          <button type="button" class="btn small" disabled=${busy} onClick=${() => remove(w.address)}>Unregister</button>
        </li>`)}</ul>`)}
    ${!challenge
      ? html`<form class="inline-form" onSubmit=${ask}>
          <label>Wallet address <input value=${address} placeholder="0x…" size="44" required data-testid="wallet-address"
            onInput=${(e) => setAddress(e.currentTarget.value)} /></label>
          ${window.ethereum && html`<button type="button" class="btn" disabled=${busy} onClick=${useBrowserWallet}>Use my browser wallet</button>`}
          <button class="btn primary" disabled=${busy || !address.trim()} data-testid="wallet-challenge">Register this wallet</button>
        </form>`
      : html`<form class="inline-form" onSubmit=${(e) => { e.preventDefault(); register(signature); }}>
          <p>Sign this message with the wallet <code>${challenge.address}</code> (“sign message” / personal_sign) before ${new Date(challenge.expires_at).toLocaleTimeString()}:</p>
          <label>Message to sign <textarea readonly rows="9" cols="70" data-testid="challenge-message" value=${challenge.message}></textarea></label>
          ${window.ethereum && html`<button type="button" class="btn primary" disabled=${busy} onClick=${signInBrowser}>Sign with my browser wallet</button>`}
          <label>Signature <input value=${signature} placeholder="0x… (65 bytes)" size="44" data-testid="wallet-signature"
            onInput=${(e) => setSignature(e.currentTarget.value)} /></label>
          <button class="btn" disabled=${busy || !signature.trim()} data-testid="wallet-register">Register with this signature</button>
          <button type="button" class="btn" onClick=${() => setChallenge(null)}>Cancel</button>
        </form>`}
    <${ErrorBox} error=${error} />
  </div>`;
}

function Earnings({ methods, wallets }) {
  const earnings = useFetch('/api/v1/me/earnings');
  const payouts = useFetch('/api/v1/me/payouts');
  const items = earnings.data?.items || [];
  const canPay = methods && (methods.usdp?.payouts || methods.gateways.some((g) => g.payouts));
  const refresh = () => {
    earnings.reload();
    payouts.reload();
  };
  const underWay = (a) => (payouts.data?.items || []).find((p) => p.artist_id === a.artist_id && (p.state === 'pending' || p.state === 'sent'));
  return html`<section aria-labelledby="earnings-title">
    <h2 id="earnings-title">Your earnings as an artist</h2>
    <${Status} result=${earnings} />
    ${items.map((a) => html`<div key=${a.artist_id}>
      <h3>${a.name}: ${formatMoney(a.balance)} earned, not yet paid out</h3>
      ${canPay && a.balance > 0 && (underWay(a)
        ? html`<p class="muted" data-testid="payout-under-way">A payout of ${formatMoney(underWay(a).amount)} is under way.</p>`
        : html`<${PayoutForm} artist=${a} methods=${methods} wallets=${wallets} onDone=${refresh} />`)}
      ${a.months.length === 0
        ? html`<${Empty}>No settled month yet.</${Empty}>`
        : html`<div class="table-wrap"><table>
            <thead><tr><th>Month</th><th>Listeners</th><th>Amount</th></tr></thead>
            <tbody>${a.months.map((m) => html`<tr key=${m.period}><td>${m.period}</td><td>${plural(m.listeners, 'listener')}</td><td class="num">${formatMoney(m.amount)}</td></tr>`)}</tbody>
          </table></div>`}
      ${a.remote?.length > 0 && html`<${RemoteEarnings} remote=${a.remote} />`}
    </div>`)}
    <${Payouts} result=${payouts} />
  </section>`;
}

// RemoteEarnings is what the listeners of other nodes paid the artist, as
// those nodes' signed statements say: each node holds that money and pays
// it out, so it is pending here until the node says it paid.
function RemoteEarnings({ remote }) {
  return html`<div class="table-wrap" data-testid="remote-earnings"><table>
    <caption>From listeners of other servers</caption>
    <thead><tr><th>Server</th><th>Month</th><th>Amount</th><th>Paid</th></tr></thead>
    <tbody>${remote.flatMap((r) => r.months.map((m) => html`<tr key=${r.actor + m.period}>
      <td>${r.node}</td><td>${m.period}</td><td class="num">${formatMoney(m.amount)}</td>
      <td>${m.paid_ref ? html`paid <span class="muted">${m.paid_ref}</span>` : 'pending'}</td></tr>`))}</tbody>
    <tfoot>${remote.map((r) => html`<tr key=${r.actor}><th>${r.node}</th><td></td><td class="num">${formatMoney(r.earned)}</td>
      <td>${formatMoney(r.paid)} paid, ${formatMoney(r.pending)} pending</td></tr>`)}</tfoot>
  </table></div>`;
}

// PayoutForm pays out an artist's whole balance: USDP to one of the
// owner's registered wallets, or through a gateway to their account there.
function PayoutForm({ artist, methods, wallets, onDone }) {
  const gateways = methods.gateways.filter((g) => g.payouts);
  const options = [
    ...(methods.usdp?.payouts ? [{ value: 'usdp', label: `${methods.usdp.symbol} to my wallet` }] : []),
    ...gateways.map((g) => ({ value: `gateway:${g.name}`, label: `Through ${g.name}` })),
  ];
  const [choice, setChoice] = useState(options[0].value);
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const myWallets = wallets.data?.items || [];
  const usdp = choice === 'usdp';
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const [method, gateway] = choice.split(':');
      await api.post('/api/v1/me/payouts', { artist_id: artist.artist_id, method, gateway, to: usdp ? to || myWallets[0]?.address : to });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${submit} data-testid="payout-form">
    <label>Pay out <select value=${choice} onChange=${(e) => setChoice(e.currentTarget.value)}>
      ${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}
    </select></label>
    ${usdp
      ? (myWallets.length === 0
        ? html`<span class="muted">Register a wallet above first: payouts go only to your registered wallets.</span>`
        : html`<label>Wallet <select value=${to || myWallets[0].address} onChange=${(e) => setTo(e.currentTarget.value)}>
            ${myWallets.map((w) => html`<option value=${w.address}>${w.address}</option>`)}
          </select></label>`)
      : html`<label>Your account at ${choice.split(':')[1]} <input value=${to} placeholder="acct_…" required onInput=${(e) => setTo(e.currentTarget.value)} /></label>`}
    <button class="btn primary" disabled=${busy || (usdp && myWallets.length === 0)}>Pay out ${formatMoney(artist.balance)}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

const PAYOUT_STATES = {
  pending: 'Pending',
  sent: 'Sent, waiting for confirmation',
  confirmed: 'Paid',
  failed: 'Failed',
};

function PayoutTable({ items, testid }) {
  return html`<div class="table-wrap"><table data-testid=${testid}>
    <thead><tr><th>Requested</th><th>How</th><th>To</th><th>Amount</th><th>State</th></tr></thead>
    <tbody>${items.map((p) => html`<tr key=${`${p.method}-${p.id}`}>
      <td>${formatDate(p.created_at)}</td>
      <td>${p.method === 'usdp' ? 'USDP' : p.via}</td>
      <td><code>${p.to}</code></td>
      <td class="num">${formatMoney(p.amount)}</td>
      <td>${PAYOUT_STATES[p.state] || p.state}${p.error && html`<div class="error-text">${p.error}</div>`}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

function Payouts({ result }) {
  const items = result.data?.items || [];
  if (items.length === 0) return html`<${Status} result=${result} />`;
  return html`<h3>Payouts</h3><${PayoutTable} items=${items} testid="payouts" />`;
}

// AdminPayments shows what needs a person: USDP from wallets nobody
// registered, payouts under way or failed, and gateway payments the node
// could not credit (to refund at the gateway, or credit by hand).
function AdminPayments() {
  const p = useFetch('/api/v1/admin/payments');
  const d = p.data;
  return html`<section aria-labelledby="admin-pay-title" data-testid="admin-payments">
    <h2 id="admin-pay-title">Payments to look at (admin)</h2>
    <${Status} result=${p} />
    ${d && d.unclaimed.length + d.payouts.length + d.refused.length === 0 && html`<${Empty}>Nothing needs attention.</${Empty}>`}
    ${d && d.unclaimed.length > 0 && html`<h3>Unclaimed USDP transfers</h3>
      <p class="muted">Sent from wallets nobody registered: credited when their sender registers the wallet.</p>
      <div class="table-wrap"><table>
        <thead><tr><th>From</th><th>Transaction</th><th>Block</th><th>Amount</th></tr></thead>
        <tbody>${d.unclaimed.map((u) => html`<tr key=${u.ext_id}><td><code>${u.from}</code></td><td><code>${u.tx_hash}</code></td><td>${u.block}</td><td class="num">${formatMoney(u.amount)}</td></tr>`)}</tbody>
      </table></div>`}
    ${d && d.payouts.length > 0 && html`<h3>Payouts under way or failed</h3><${PayoutTable} items=${d.payouts} testid="admin-payouts" />`}
    ${d && d.refused.length > 0 && html`<h3>Refused gateway events</h3>
      <div class="table-wrap"><table>
        <thead><tr><th>Received</th><th>Gateway</th><th>Event</th><th>Amount</th><th>Why</th></tr></thead>
        <tbody>${d.refused.map((e) => html`<tr key=${`${e.gateway}-${e.id}`}><td>${formatDate(e.received_at)}</td><td>${e.gateway}</td><td><code>${e.id}</code> ${e.type}</td>
          <td class="num">${e.amount ? `${formatMoney(e.amount)} ${e.currency.toUpperCase()}` : ''}</td><td>${e.error}</td></tr>`)}</tbody>
      </table></div>`}
  </section>`;
}
