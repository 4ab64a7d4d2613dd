// `express4` is Express 4 installed under an alias for the adapter suite; its API as used there
// matches Express 5's types.
declare module 'express4' {
  import express from 'express';
  export default express;
}
