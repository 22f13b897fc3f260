// The catalogue of an artist on another server, read from its outbox by
// this node. Its tracks stream straight from that server; their listens
// belong to it and are not counted here. Likes, boosts and comments go
// to that server (the API sends them as ActivityPub activities).
import { useMemo, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, Empty, ErrorBox, Guard, Status } from '../components.js';
import { ActorAvatar, ActorBanner, Handle, handleOf, hostOf, remoteTrack } from '../federation.js';
import { formatDuration, plural } from '../format.js';
import { Icon } from '../icons.js';
import { player } from '../player.js';
import { AddToPlaylist } from '../playlist-items.js';
import { useRoute } from '../router.js';
import { useStore } from '../store.js';

const LIMIT = 50;

export function RemoteCatalogue() {
  const route = useRoute();
  const handle = (new URLSearchParams(route.search).get('handle') || '').trim();
  useTitle(handle || 'Catalogue');
  return html`<div class="page">
    <${Guard}>
      ${handle
        ? html`<${Catalogue} key=${handle} handle=${handle} />`
        : html`<${Empty}>
            <p>No artist given. Browse the catalogue of an artist you follow.</p>
            <a class="btn primary" href="/app/following">Following</a>
          </${Empty}>`}
    </${Guard}>
  </div>`;
}

function Catalogue({ handle }) {
  const cat = useFetch(`/api/v1/remote/catalogue${query({ handle, limit: LIMIT })}`);
  const data = cat.data;
  const tracks = useMemo(() => (data ? data.tracks.map((t) => remoteTrack(data.actor, t)) : []), [data]);
  if (!data) {
    return html`<h1 class="remote-handle">${handle}</h1>
      <${Status} result=${cat} label="Loading the catalogue…" />`;
  }

  const { actor } = data;
  const name = actor.name || handleOf(actor);
  const host = hostOf(actor) || tracks[0]?.host || '';
  const playable = tracks.some((t) => t.hls_url);
  return html`
    <${ActorBanner} actor=${actor} />
    <header class="page-head">
      <${ActorAvatar} actor=${actor} large />
      <div>
        <p class="eyebrow">Artist on another server</p>
        <h1>${name}</h1>
        <p class="sub"><${Handle} actor=${actor} /> · ${plural(tracks.length, 'track')}</p>
        ${host && html`<p class="remote-note" data-testid="remote-host">Streaming from <strong>${host}</strong></p>`}
        <div class="actions">
          <button type="button" class="btn primary" data-testid="remote-play-all" disabled=${!playable}
            onClick=${() => player.playQueue(tracks, tracks.findIndex((t) => t.hls_url))}>Play all</button>
          <a class="btn" href="/app/following">Following</a>
        </div>
      </div>
    </header>
    <section aria-labelledby="remote-tracks-title">
      <h2 id="remote-tracks-title">Tracks</h2>
      ${tracks.length
        ? html`<${RemoteTrackList} tracks=${tracks} />`
        : html`<${Empty}><p>${handleOf(actor)} has not published any tracks yet.</p></${Empty}>`}
    </section>`;
}

const nowPlaying = (s) => ({ id: s.queue[s.index]?.id ?? null, playing: s.playing });

// RemoteTrackList is TrackList for remote tracks: they have no page on
// this node, so the title is plain text. Playing a row plays the list on.
function RemoteTrackList({ tracks }) {
  const now = useStore(player.store, nowPlaying);
  // What you liked and boosted on other servers, as "kind iri".
  const reactions = useFetch('/api/v1/me/remote-reactions?limit=200');
  const mine = useMemo(() => new Set((reactions.data?.items || []).map((r) => `${r.kind} ${r.iri}`)), [reactions.data]);
  const reacted = (iri, state) =>
    reactions.setData((d) => {
      const items = (d?.items || []).filter((r) => r.iri !== iri);
      for (const kind of ['like', 'boost']) {
        if (state[kind === 'like' ? 'liked' : 'boosted']) items.push({ iri, kind });
      }
      return { items };
    });
  return html`<ol class="tracks" data-testid="remote-tracks">
    ${tracks.map((t, i) => {
      const current = t.id === now.id;
      const label = current && now.playing ? `Pause ${t.title}` : `Play ${t.title}`;
      const details = [t.album, t.genre].filter(Boolean).join(' · ');
      return html`<li class=${current ? 'track-row current' : 'track-row'} key=${t.id} data-testid="remote-track">
        <${Cover} url=${t.cover_url} title=${t.title} size=${48} />
        <button type="button" class="icon-btn" data-testid="remote-play" aria-label=${label} disabled=${!t.hls_url}
          onClick=${() => (current ? player.toggle() : player.playQueue(tracks, i))}>
          <${Icon} name=${current && now.playing ? 'pause' : 'play'} />
        </button>
        <div class="meta">
          <span class="title">${t.title}</span>
          <span class="sub">${details || '\u00a0'}${!t.hls_url && html` <span class="badge">no stream</span>`}</span>
        </div>
        <span class="dur">${formatDuration(t.duration_ms)}</span>
        <button type="button" class="icon-btn" data-testid="remote-enqueue" aria-label=${`Add ${t.title} to queue`}
          disabled=${!t.hls_url} onClick=${() => player.enqueue([t])}>
          <${Icon} name="add" />
        </button>
        <${AddToPlaylist} track=${t} />
        <${RemoteSocial} track=${t} liked=${mine.has(`like ${t.id}`)} boosted=${mine.has(`boost ${t.id}`)} onReacted=${reacted} />
      </li>`;
    })}
  </ol>`;
}

// RemoteSocial likes, boosts and comments on a track of another server.
// The counts live there; what you did is known here.
function RemoteSocial({ track, liked, boosted, onReacted }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [sent, setSent] = useState(false);
  const run = async (what, call) => {
    setBusy(what);
    setError(null);
    try {
      await call();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const toggle = (kind, active) =>
    run(kind, async () => onReacted(track.id, await api.put('/api/v1/remote/reactions', { iri: track.id, kind, active })));
  const post = (e) => {
    e.preventDefault();
    run('comment', async () => {
      await api.post('/api/v1/remote/comments', { iri: track.id, text });
      setText('');
      setOpen(false);
      setSent(true);
    });
  };
  return html`<div class="row-social" data-testid="remote-social">
    <button type="button" class=${liked ? 'btn small primary' : 'btn small'} data-testid="remote-like" aria-pressed=${liked ? 'true' : 'false'}
      disabled=${busy !== null} onClick=${() => toggle('like', !liked)}>${liked ? 'Liked' : 'Like'}</button>
    <button type="button" class=${boosted ? 'btn small primary' : 'btn small'} data-testid="remote-boost" aria-pressed=${boosted ? 'true' : 'false'}
      title="Boosting shares the track with your followers" disabled=${busy !== null}
      onClick=${() => toggle('boost', !boosted)}>${boosted ? 'Boosted' : 'Boost'}</button>
    <button type="button" class="btn small" data-testid="remote-comment" aria-expanded=${open ? 'true' : 'false'}
      onClick=${() => { setOpen(!open); setSent(false); }}>Comment</button>
    ${sent && html`<span class="sub" role="status" data-testid="remote-comment-sent">Comment sent to ${track.host}</span>`}
    <${ErrorBox} error=${error} />
    ${open &&
    html`<form class="form row-comment" onSubmit=${post}>
      <label class="visually-hidden" for=${`comment-${track.id}`}>Your comment on ${track.title}</label>
      <textarea id=${`comment-${track.id}`} data-testid="remote-comment-text" rows="2" maxlength="1000" required value=${text}
        onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      <button class="btn small primary" data-testid="remote-comment-submit" disabled=${busy !== null}>${busy === 'comment' ? 'Sending…' : 'Send'}</button>
    </form>`}
  </div>`;
}
