// Small controls shared by the dialogs: a row of tabs, and a read-only
// field with a copy button.

import { useEffect, useState } from "react";
import { inputClass } from "./modal";

/** A row of tabs; each button's test id is `${testIdPrefix}-${id}`. */
export function Tabs<T extends string>({ tabs, current, onSelect, testIdPrefix }: {
  tabs: readonly (readonly [T, string])[];
  current: T;
  onSelect: (t: T) => void;
  testIdPrefix: string;
}) {
  return (
    <div role="tablist" className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-700">
      {tabs.map(([t, label]) => (
        <button key={t} type="button" role="tab" aria-selected={current === t} data-testid={`${testIdPrefix}-${t}`} onClick={() => onSelect(t)}
          className={`px-3 py-1.5 ${current === t ? "border-b-2 border-indigo-500 font-medium" : "text-zinc-500"}`}>
          {label}
        </button>
      ))}
    </div>
  );
}

/** Puts text on the clipboard; false when the page may not (no permission, an old WebView). */
export async function copyText(text: string, clipboard: Pick<Clipboard, "writeText"> | undefined = globalThis.navigator?.clipboard): Promise<boolean> {
  if (!clipboard) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A value to pass on (an invite link or code): selected on focus, with a copy button. */
export function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  useEffect(() => {
    if (copied === null) return;
    const t = window.setTimeout(() => setCopied(null), 2000);
    return () => window.clearTimeout(t);
  }, [copied]);
  return (
    <label className="block">
      <span className="text-xs text-zinc-500">{label}</span>
      <span className="flex gap-2">
        <input data-testid={testId} readOnly className={`${inputClass} font-mono text-xs`} value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" data-testid={`${testId}-copy`} className="shrink-0 rounded border border-zinc-300 px-3 text-xs hover:bg-zinc-100 dark:border-zinc-600 dark:hover:bg-zinc-700"
          onClick={() => void copyText(value).then(setCopied)}>
          {copied === true ? "Copied" : copied === false ? "Select and copy" : "Copy"}
        </button>
      </span>
    </label>
  );
}
