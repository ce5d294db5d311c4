/* Course editor (CodeMirror 6 bundle). Built from frontend/ with `npm run build`; do not edit by hand. Third-party notices: LICENSES.txt */
import{a,b,c,d}from"./chunk-7YZBPJBW.js";import"./chunk-AHPLOVEU.js";import"./chunk-5NPGHHV3.js";export{d as css,b as cssCompletionSource,c as cssLanguage,a as defineCSSCompletionSource};
