/** node-gyp-build 4 ships no types: it loads the native add-on built or prebuilt for a package folder. */
declare module "node-gyp-build" {
  function load(dir: string): unknown;
  export default load;
}
