// RFC 8288 Link header for collection pages: next, prev, first, last, each an absolute
// URL on this sandbox that keeps the other query parameters exactly as the client sent them.

export function linkHeader(absolutePath: string, rawQuery: string, limit: number, offset: number, total: number): string {
  // Keep every other parameter byte-for-byte (including its encoding); replace only paging.
  const kept = rawQuery.split('&').filter((p) => p !== '' && !/^(limit|offset)(=|$)/.test(p));
  const url = (o: number): string => `${absolutePath}?${[...kept, `limit=${limit}`, `offset=${o}`].join('&')}`;
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  const links: string[] = [];
  if (offset + limit < total) links.push(`<${url(offset + limit)}>; rel="next"`);
  if (offset > 0) links.push(`<${url(Math.max(0, offset - limit))}>; rel="prev"`);
  links.push(`<${url(0)}>; rel="first"`, `<${url(lastOffset)}>; rel="last"`);
  return links.join(', ');
}
