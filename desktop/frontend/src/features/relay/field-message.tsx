// A relay error shown under the field it is about.

import { relayError, type FieldError, type RelayField } from "@/lib/relay";

export function FieldMessage({ error, field }: { error: FieldError | null; field: RelayField }) {
  if (!error || error.field !== field) return null;
  return (
    <p data-testid={`relay-error-${field}`} role="alert" className="text-xs text-destructive">
      {error.text}
    </p>
  );
}

/** The first error among mutations', as a sentence for its field. */
export function firstError(...errors: unknown[]): FieldError | null {
  const e = errors.find((x) => x !== null && x !== undefined);
  return e === undefined ? null : relayError(e);
}
