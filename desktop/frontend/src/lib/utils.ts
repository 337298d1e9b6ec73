// cn(), shadcn/ui's class joiner: clsx for conditions, tailwind-merge so a
// caller's class wins over a component's default for the same property.

import { clsx, type ClassValue } from "clsx";
import { twMerge } from "tailwind-merge";

export function cn(...inputs: ClassValue[]): string {
  return twMerge(clsx(inputs));
}
