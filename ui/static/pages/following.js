// Following artists on other 9ten nodes and the fediverse, and the feed of
// what they publish. A follow stays pending until the other server accepts
// it, so the list is polled while any is. Everything about remote actors
// and their posts comes from other servers: it is rendered as text only,
// and only http(s) links to it are made.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useInterval, useTitle } from '../hooks.js';
import { Empty, ErrorBox, Guard, Status, initials } from '../components.js';
import { Handle, catalogueHref, handleOf, hostOf, webURL } from '../federation.js';
import { formatDate } from '../format.js';

const POLL_MS = 2000;
const FEED_LIMIT = 50;

export function Following() {
  useTitle('Following');
  return html`<div class="page">
    <h1>Following</h1>
    <${Guard}><${Federation} /></${Guard}>
  </div>`;
}

function Federation() {
  const follows = useFetch('/api/v1/follows');
  const feed = useFetch(`/api/v1/feed?limit=${FEED_LIMIT}`);
  const items = follows.data?.items || [];
  useInterval(follows.reload, POLL_MS, items.some((f) => f.state === 'pending'));

  // The feed only holds posts of accepted follows: reload it when a follow
  // is accepted or withdrawn (not on the first load, which fetched it).
  const acceptedKey = follows.data ? items.filter((f) => f.state === 'accepted').map((f) => f.id).join(',') : null;
  const lastKey = useRef(null);
  useEffect(() => {
    if (acceptedKey === null) return;
    if (lastKey.current !== null && lastKey.current !== acceptedKey) feed.reload();
    lastKey.current = acceptedKey;
  }, [acceptedKey]);

  // An optimistic edit, then a reload: the reload also drops the answer of
  // a poll that was under way and would not have the change yet.
  const followed = (f) => {
    follows.setData((d) => ({ items: [f, ...(d?.items || []).filter((it) => it.id !== f.id)] }));
    follows.reload();
  };
  const unfollowed = (id) => {
    follows.setData((d) => ({ items: (d?.items || []).filter((it) => it.id !== id) }));
    follows.reload();
  };

  return html`
    <${FollowForm} onFollowed=${followed} />
    <section aria-labelledby="follows-title">
      <h2 id="follows-title">Artists you follow</h2>
      ${follows.data ? html`<${ErrorBox} error=${follows.error} onRetry=${follows.reload} />` : html`<${Status} result=${follows} />`}
      ${follows.data && html`<${FollowList} items=${items} onUnfollowed=${unfollowed} />`}
    </section>
    <${Feed} feed=${feed} />`;
}

function FollowForm({ onFollowed }) {
  const [handle, setHandle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const f = await api.post('/api/v1/follows', { handle: handle.trim() });
      setHandle('');
      setDone(f);
      onFollowed(f);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="follow-title">
    <h2 id="follow-title">Follow an artist on another 9ten node or the fediverse</h2>
    <form class="form" data-testid="follow-form" onSubmit=${submit}>
      <${ErrorBox} error=${error} />
      <label>Handle or actor URL
        <input data-testid="follow-handle" name="handle" required placeholder="@artist@music.example"
          autocomplete="off" autocapitalize="none" spellcheck=${false} aria-invalid=${error ? 'true' : undefined}
          value=${handle} onInput=${(e) => {
            setHandle(e.currentTarget.value);
            setDone(null);
          }} />
      </label>
      <div class="actions">
        <button class="btn primary" data-testid="follow-submit" disabled=${busy}>${busy ? 'Following…' : 'Follow'}</button>
        ${done &&
        html`<span class="sub" role="status">
          ${done.state === 'accepted' ? `You now follow ${handleOf(done.actor)}.` : `Follow request sent to ${handleOf(done.actor)}.`}
        </span>`}
      </div>
    </form>
  </section>`;
}

function FollowList({ items, onUnfollowed }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const unfollow = async (f) => {
    setBusy(f.id);
    setError(null);
    try {
      await api.delete(`/api/v1/follows/${f.id}`);
      onUnfollowed(f.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  if (!items.length) return html`<${Empty}><p>You do not follow anyone on other servers yet.</p></${Empty}>`;
  return html`
    <${ErrorBox} error=${error} />
    <ul class="follows" data-testid="follows">
      ${items.map((f) => {
        const handle = handleOf(f.actor);
        const pending = f.state === 'pending';
        return html`<li class="follow-row" key=${f.id} data-testid="follow-row">
          <div class="avatar" aria-hidden="true">${initials(f.actor.name || f.actor.handle || '?')}</div>
          <div class="meta">
            <span>
              <strong>${f.actor.name || handle}</strong>${' '}
              <span class=${`badge badge-${f.state}`} data-testid="follow-state"
                title=${pending ? `Waiting for ${hostOf(f.actor) || 'the other server'} to accept` : undefined}>${f.state}</span>
            </span>
            <span class="sub"><${Handle} actor=${f.actor} /> · ${pending ? 'asked' : 'since'} ${formatDate(f.since)}</span>
          </div>
          <div class="row-actions">
            <a class="btn small" data-testid="browse-catalogue" href=${catalogueHref(f.actor)}
              aria-label=${`Browse catalogue of ${handle}`}>Browse catalogue</a>
            <button type="button" class="btn small" data-testid="unfollow" aria-label=${`Unfollow ${handle}`}
              disabled=${busy === f.id} onClick=${() => unfollow(f)}>${busy === f.id ? 'Unfollowing…' : 'Unfollow'}</button>
          </div>
        </li>`;
      })}
    </ul>`;
}

const verbs = { Create: 'published', Update: 'updated', Announce: 'shared', Delete: 'deleted' };

function Feed({ feed }) {
  const items = feed.data?.items || [];
  return html`<section aria-labelledby="feed-title">
    <div class="section-head">
      <h2 id="feed-title">Feed</h2>
      ${feed.data && html`<button type="button" class="btn small" data-testid="feed-refresh" disabled=${feed.loading} onClick=${feed.reload}>Refresh</button>`}
    </div>
    <${Status} result=${feed} label="Loading the feed…" />
    ${feed.data && !items.length && html`<${Empty}><p>Follow artists to see what they publish.</p></${Empty}>`}
    ${items.length > 0 &&
    html`<ol class="feed" data-testid="feed">
      ${items.map((it, i) => html`<${FeedItem} key=${`${it.type} ${it.object} ${i}`} item=${it} />`)}
    </ol>`}
  </section>`;
}

function FeedItem({ item }) {
  const { actor } = item;
  const link = item.type !== 'Delete' && webURL(item.url);
  return html`<li class="feed-item" data-testid="feed-item">
    <div class="avatar" aria-hidden="true">${initials(actor.name || actor.handle || '?')}</div>
    <div class="feed-body">
      <p class="feed-head">
        <strong>${actor.name || handleOf(actor)}</strong> <span class="sub"><${Handle} actor=${actor} />${verbs[item.type] ? ` · ${verbs[item.type]}` : ''}</span>
      </p>
      ${item.title && html`<p class="feed-title">${item.title}</p>`}
      ${item.text && html`<p class="feed-text" data-testid="feed-text">${item.text}</p>`}
      <p class="sub">
        <time datetime=${item.published}>${formatDate(item.published)}</time>
        ${link &&
        html` · <a href=${link.href} target="_blank" rel="noopener noreferrer">Open on ${link.host}<span class="visually-hidden"> (opens in a new tab)</span></a>`}
      </p>
    </div>
  </li>`;
}
