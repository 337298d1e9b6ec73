// A value to pass on (an invite link or code): read-only, selected on
// focus, with a copy button.

import { useState } from "react";
import { Check, Copy } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

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

export function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const id = `${testId}-field`;
  return (
    <div className="grid gap-1.5">
      <Label htmlFor={id} className="text-xs text-muted-foreground">
        {label}
      </Label>
      <div className="flex gap-2">
        <Input id={id} data-testid={testId} readOnly className="font-mono text-xs" value={value} onFocus={(e) => e.currentTarget.select()} />
        <Button
          type="button"
          variant="outline"
          data-testid={`${testId}-copy`}
          onClick={() =>
            void copyText(value).then((ok) => {
              setCopied(ok);
              window.setTimeout(() => setCopied(null), 2000);
            })
          }
        >
          {copied === true ? <Check aria-hidden /> : <Copy aria-hidden />}
          {copied === true ? "Copied" : copied === false ? "Select and copy" : "Copy"}
        </Button>
      </div>
    </div>
  );
}
