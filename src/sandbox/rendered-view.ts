// Renders store records into this version's JSON on demand. Nothing is cached: a page
// renders only its own records, and a filter renders a collection once per request, which
// keeps memory flat even for 200k-user sandboxes (1M enrollments).

import type { AnyRecord, CollectionName } from './records.js';
import type { FieldCatalogue, GuidRef, Json, RenderContext, VersionRenderer } from './render-common.js';
import type { SandboxStore } from './store.js';

export class RenderedView {
  private readonly ctx: RenderContext;

  constructor(
    readonly store: SandboxStore,
    private readonly renderer: VersionRenderer,
    ref: (type: string, sourcedId: string) => GuidRef,
  ) {
    this.ctx = { store, ref };
  }

  fields(collection: CollectionName): FieldCatalogue {
    return this.renderer.fields(collection);
  }

  render(collection: CollectionName, record: AnyRecord): Json {
    return this.renderer.render(collection, record, this.ctx);
  }

  /** One record rendered, or undefined when it does not exist. */
  get(collection: CollectionName, sourcedId: string): Json | undefined {
    const rec = this.store.get(collection, sourcedId);
    return rec ? this.render(collection, rec) : undefined;
  }
}
