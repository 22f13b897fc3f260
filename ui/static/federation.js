// Actors and tracks from other servers (other 9ten nodes, the fediverse).
// Everything about them comes from those servers: it is rendered as text
// only, and only http(s) links to it are made or followed.
import { query } from './api.js';
import { html } from './html.js';
import { Avatar, Banner } from './components.js';

// webURL returns url when it is an http(s) address, and otherwise null:
// a remote server could send javascript: or data: URLs.
export function webURL(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u : null;
  } catch {
    return null;
  }
}

// handleOf shows an actor as @name@host, or by its address when the
// server has not (yet) described it.
export function handleOf(actor) {
  if (actor.handle) return actor.handle.startsWith('@') ? actor.handle : `@${actor.handle}`;
  return actor.id || 'unknown actor';
}

export const hostOf = (actor) => webURL(actor.id)?.host || '';

// catalogueHref links the page that lists what an actor published: by
// its handle, or its address when it has none.
export const catalogueHref = (actor) => `/app/remote${query({ handle: actor.handle ? handleOf(actor) : actor.id })}`;

// Handle prints @name@host with a line-break opportunity before the host,
// so a long handle wraps there on a narrow screen.
export function Handle({ actor }) {
  const handle = handleOf(actor);
  const at = handle.lastIndexOf('@');
  if (at <= 0) return handle;
  return html`${handle.slice(0, at)}<wbr />${handle.slice(at)}`;
}

// remoteTrack turns a track of a remote catalogue into a queue item for
// the player. It keeps only http(s) URLs: a track without a playable
// stream URL has an empty hls_url, which the player does not queue.
export function remoteTrack(actor, t) {
  const stream = webURL(t.hls_url);
  return {
    id: t.id, // the track's ActivityPub IRI
    remote: true,
    title: t.title || 'Untitled',
    artist: actor.name || handleOf(actor),
    catalogue_url: catalogueHref(actor),
    album: t.album || '',
    genre: t.genre || '',
    duration_ms: t.duration_ms || 0,
    hls_url: stream?.href || '',
    host: stream?.host || hostOf(actor),
    cover_url: webURL(t.cover_url)?.href || '',
    page_url: webURL(t.page_url)?.href || '',
  };
}

// ActorAvatar and ActorBanner show an actor's pictures as its server
// publishes them (http(s) only), or its initials.
export const ActorAvatar = ({ actor, large = false }) =>
  html`<${Avatar} url=${webURL(actor.icon_url)?.href} name=${actor.name || actor.handle} large=${large} />`;

export const ActorBanner = ({ actor }) => html`<${Banner} url=${webURL(actor.image_url)?.href} />`;
