window.pimPortal = {
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,

    // The step-up's nonce stays in this browser: SameSite=Strict, so a link from elsewhere never carries it.
    rememberStepUp: (id, nonce) => {
        document.cookie = `pim-stepup-${id}=${nonce}; path=/stepup; max-age=600; SameSite=Strict` + (location.protocol === "https:" ? "; Secure" : "");
    }
};
