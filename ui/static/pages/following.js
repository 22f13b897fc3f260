// Following artists on other 9ten nodes and the fediverse, the feed of
// what they publish and of what friends who share it play; who asks to
// follow you (when you approve followers by hand) and your social
// settings. A follow stays pending until the other server accepts it, so
// the list is polled while any is. Everything about remote actors and
// their posts comes from other servers: it is rendered as text only, and
// only http(s) links to it are made.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useInterval, useTitle } from '../hooks.js';
import { Empty, ErrorBox, Guard, Status } from '../components.js';
import { ActorAvatar, Handle, catalogueHref, handleOf, hostOf, webURL } from '../federation.js';
import { formatDate } from '../format.js';

const POLL_MS = 2000;
const FEED_LIMIT = 50;

export function Following() {
  useTitle('Following');
  return html`<div class="page">
    <div class="section-head">
      <h1>Following</h1>
      <a class="btn" href="/app/following/playlists" data-testid="remote-playlists-link">Their playlists</a>
    </div>
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
    <${Feed} feed=${feed} />
    <${FriendListens} />
    <${FollowRequests} />
    <${SocialSettings} />`;
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
          <${ActorAvatar} actor=${f.actor} />
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
    <${ActorAvatar} actor=${actor} />
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

// FriendListens is what the people you follow played, from those who chose
// to share it.
function FriendListens() {
  const listens = useFetch(`/api/v1/feed/listens?limit=${FEED_LIMIT}`);
  const items = listens.data?.items || [];
  return html`<section aria-labelledby="friends-title">
    <div class="section-head">
      <h2 id="friends-title">What my friends play</h2>
      ${listens.data &&
      html`<button type="button" class="btn small" data-testid="friends-refresh" disabled=${listens.loading} onClick=${listens.reload}>Refresh</button>`}
    </div>
    <${Status} result=${listens} label="Loading what your friends play…" />
    ${listens.data &&
    !items.length &&
    html`<${Empty}><p>Nobody you follow shares what they play yet. (Your own listens are shared only if you say so below.)</p></${Empty}>`}
    ${items.length > 0 &&
    html`<ol class="feed" data-testid="friend-listens">
      ${items.map((it, i) => {
        const link = webURL(it.url);
        return html`<li class="feed-item" key=${`${it.actor.id} ${it.object} ${i}`} data-testid="friend-listen">
          <${ActorAvatar} actor=${it.actor} />
          <div class="feed-body">
            <p class="feed-head">
              <strong>${it.actor.name || handleOf(it.actor)}</strong> <span class="sub"><${Handle} actor=${it.actor} /> · played</span>
            </p>
            <p class="feed-title">${it.title || it.object}${it.artist && html` <span class="sub">by ${it.artist}</span>`}</p>
            <p class="sub">
              <time datetime=${it.listened_at}>${formatDate(it.listened_at)}</time>
              ${link &&
              html` · <a href=${link.href} target="_blank" rel="noopener noreferrer">Open on ${link.host}<span class="visually-hidden"> (opens in a new tab)</span></a>`}
            </p>
          </div>
        </li>`;
      })}
    </ol>`}
  </section>`;
}

// FollowRequests lists who asks to follow you or your artist profiles,
// for you to let them or not. Requests wait only while you approve
// followers by hand.
function FollowRequests() {
  const reqs = useFetch('/api/v1/follow-requests');
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const items = reqs.data?.items || [];
  const answer = async (r, verb) => {
    setBusy(r.id);
    setError(null);
    try {
      await api.post(`/api/v1/follow-requests/${r.id}/${verb}`);
      reqs.setData((d) => ({ items: (d?.items || []).filter((it) => it.id !== r.id) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  return html`<section aria-labelledby="requests-title">
    <h2 id="requests-title">Follow requests</h2>
    <${Status} result=${reqs} />
    <${ErrorBox} error=${error} />
    ${reqs.data && !items.length && html`<${Empty}><p>Nobody is waiting for your answer.</p></${Empty}>`}
    ${items.length > 0 &&
    html`<ul class="follows" data-testid="follow-requests">
      ${items.map((r) => {
        const handle = handleOf(r.actor);
        return html`<li class="follow-row" key=${r.id} data-testid="follow-request">
          <${ActorAvatar} actor=${r.actor} />
          <div class="meta">
            <strong>${r.actor.name || handle}</strong>
            <span class="sub"><${Handle} actor=${r.actor} /> · wants to follow ${r.artist_id ? r.name : 'you'} · ${formatDate(r.since)}</span>
          </div>
          <div class="row-actions">
            <button type="button" class="btn small primary" data-testid="accept-request" aria-label=${`Accept ${handle}`}
              disabled=${busy === r.id} onClick=${() => answer(r, 'accept')}>Accept</button>
            <button type="button" class="btn small" data-testid="reject-request" aria-label=${`Reject ${handle}`}
              disabled=${busy === r.id} onClick=${() => answer(r, 'reject')}>Reject</button>
          </div>
        </li>`;
      })}
    </ul>`}
  </section>`;
}

// SocialSettings: sharing your listens (off until you turn it on), and
// approving followers by hand, for you and each of your artist profiles.
function SocialSettings() {
  const settings = useFetch('/api/v1/me/social');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const save = async (patch) => {
    setBusy(true);
    setError(null);
    try {
      settings.setData(await api.patch('/api/v1/me/social', patch));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const st = settings.data;
  return html`<section class="panel" aria-labelledby="social-settings-title">
    <h2 id="social-settings-title">Sharing and followers</h2>
    <${Status} result=${settings} />
    <${ErrorBox} error=${error} />
    ${st &&
    html`<p>
        <label class="inline-field">
          <input type="checkbox" data-testid="share-listens" checked=${st.share_listens} disabled=${busy}
            onChange=${(e) => save({ share_listens: e.currentTarget.checked })} />
          Share what I listen to with my followers
        </label>
      </p>
      <p>
        <label class="inline-field">
          <input type="checkbox" data-testid="approve-followers" checked=${st.approve_followers} disabled=${busy}
            onChange=${(e) => save({ approve_followers: e.currentTarget.checked })} />
          Approve my followers by hand
        </label>
      </p>
      ${st.artists.map(
        (a) => html`<p key=${a.artist_id}>
          <label class="inline-field">
            <input type="checkbox" data-testid="approve-artist-followers" checked=${a.approve_followers} disabled=${busy}
              onChange=${(e) => save({ artists: [{ artist_id: a.artist_id, approve_followers: e.currentTarget.checked }] })} />
            Approve followers of ${a.name} by hand
          </label>
        </p>`,
      )}`}
  </section>`;
}
