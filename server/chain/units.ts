/**
 * Amounts as text, in the form the API, the audit CSVs and the verifier have always printed (ethers'
 * fixed-point formatting): at least one digit after the point ("1.0", "0.5", "12.25"), no trailing
 * zeros beyond it. viem's formatUnits prints "1" for one unit, which would change the answers.
 */
export function formatUnits(value: bigint, decimals: number): string {
  let negative = "";
  let v = value;
  if (v < 0n) {
    negative = "-";
    v = -v;
  }
  let str = v.toString();
  if (decimals === 0) return negative + str;
  while (str.length <= decimals) str = "0".repeat(decimals) + str;
  const index = str.length - decimals;
  str = str.substring(0, index) + "." + str.substring(index);
  while (str[0] === "0" && str[1] !== ".") str = str.substring(1);
  while (str[str.length - 1] === "0" && str[str.length - 2] !== ".") str = str.substring(0, str.length - 1);
  return negative + str;
}
