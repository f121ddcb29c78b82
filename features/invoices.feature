Feature: Completed tasks become unfinished sales invoices in Procountor
  As an accountant who checks and sends the invoices myself
  I want every completed work order to appear in Procountor as an unfinished sales invoice, priced from the product register
  so that I only review and send invoices instead of typing them in

  Background:
    Given the organization uses the Procountor integration
    And today is 2025-03-14 in Finland
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
      | KM    | Travel            | km   | 0.59       | 25.5  |
      | TIIV  | Sealant tube      | pcs  | 12.40      | 14    |
    And Spotilla's customer register has:
      | name        | business ID | payment term |
      | Rakennus Oy | 0112038-9   | 21           |
      | Kauppa Oy   | 1572860-0   |              |

  Scenario: Each product used on the task becomes an invoice row, priced from the product register
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1.5      |
      | KM      | 12       |
      | TIIV    | 2        |
    When the integration runs
    Then the invoice of task 501 has the rows:
      | product           | code  | quantity | unit      | unit price | VAT % |
      | Installation work | ASE-1 | 1.5      | HOUR      | 49.90      | 25.5  |
      | Travel            | KM    | 12       | KILOMETER | 0.59       | 25.5  |
      | Sealant tube      | TIIV  | 2        | PIECE     | 12.40      | 14    |
    And every row of the invoice of task 501 refers to its product in Procountor's product register
    And the invoice of task 501 totals 106.73 without VAT, 24.36 VAT, 131.09 in all

  Scenario: The invoice is left unfinished for the accountant, addressed to the customer's partner
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |
    When the integration runs
    Then the invoice of task 501 is unfinished
    And the invoice of task 501 is made out to the Procountor partner of "Rakennus Oy" with business ID "0112038-9"
    And Procountor has no approved or sent invoices

  Scenario Outline: Totals are right to the cent, rounded half up
    Given Spotilla's product register also has product "P-1" "Priced product" at <unit price> per pcs with VAT <VAT %> %
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity   |
      | P-1     | <quantity> |
    When the integration runs
    Then the invoice of task 501 totals <without VAT> without VAT, <VAT> VAT, <total> in all

    Examples:
      | quantity | unit price | VAT % | without VAT | VAT   | total |
      | 1.5      | 49.90      | 25.5  | 74.85       | 19.09 | 93.94 |
      | 1        | 3.00       | 25.5  | 3.00        | 0.77  | 3.77  |
      | 1        | 7.00       | 25.5  | 7.00        | 1.79  | 8.79  |
      | 0.333    | 45.00      | 25.5  | 14.99       | 3.82  | 18.81 |
      | 2.5      | 19.99      | 13.5  | 49.98       | 6.75  | 56.73 |
      | 2        | 10.00      | 14    | 20.00       | 2.80  | 22.80 |
      | 3        | 12.50      | 0     | 37.50       | 0.00  | 37.50 |

  Scenario: A price changed after the task was completed is invoiced at the new price
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |
    And the price of product "ASE-1" is changed to 54.90 in Spotilla
    When the integration runs
    Then the invoice of task 501 has the rows:
      | product           | code  | quantity | unit | unit price | VAT % |
      | Installation work | ASE-1 | 2        | HOUR | 54.90      | 25.5  |

  Scenario Outline: Invoice date is the transfer day, delivery date the completion day, both in Finland
    Given today is <today> in Finland
    And a completed task 501 for "<customer>" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 501 was completed at <completed at> UTC
    When the integration runs
    Then the invoice of task 501 is dated <invoice date>, due <due date>, delivered <delivery date>

    Examples: the customer's own payment term, or the default 14 days
      | customer    | completed at     | today      | invoice date | due date   | delivery date |
      | Rakennus Oy | 2025-03-10 08:00 | 2025-03-14 | 2025-03-14   | 2025-04-04 | 2025-03-10    |
      | Kauppa Oy   | 2025-03-10 08:00 | 2025-03-14 | 2025-03-14   | 2025-03-28 | 2025-03-10    |
      | Kauppa Oy   | 2025-03-09 23:30 | 2025-03-14 | 2025-03-14   | 2025-03-28 | 2025-03-10    |
      | Kauppa Oy   | 2025-03-09 21:59 | 2025-03-14 | 2025-03-14   | 2025-03-28 | 2025-03-09    |
      | Kauppa Oy   | 2025-06-30 21:30 | 2025-07-01 | 2025-07-01   | 2025-07-15 | 2025-07-01    |

  Scenario: A transfer shortly after midnight in Finland is dated by the Finnish day
    Given a completed task 501 for "Kauppa Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs at 2025-03-14 22:30 UTC
    Then the invoice of task 501 is dated 2025-03-15, due 2025-03-29, delivered 2025-03-10

  Scenario Outline: The task's order number becomes the invoice's order reference
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 501 has order number "<order number>"
    When the integration runs
    Then the invoice of task 501 has <order reference>

    Examples:
      | order number    | order reference                   |
      | PO-77           | order reference "PO-77"           |
      | TILAUS 2025/114 | order reference "TILAUS 2025/114" |
      |                 | no order reference                |

  Scenario: Tasks of several customers become one invoice each
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And a completed task 502 for "Kauppa Oy" with:
      | product | quantity |
      | KM      | 40       |
    And a completed task 503 for "Rakennus Oy" with:
      | product | quantity |
      | TIIV    | 1        |
    When the integration runs
    Then Procountor has 3 invoices
    And the invoice of task 502 is made out to the Procountor partner of "Kauppa Oy" with business ID "1572860-0"

  Scenario: Procountor lost the partner and products an invoice points at: they are made again once
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |
    And the integration has run
    And Procountor has lost all of the organization's data
    And a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 3        |
    When the integration runs
    And the integration runs again
    Then an invoice is made for task 502
    And Procountor has 1 partner with business ID "0112038-9"
    And Procountor has 1 product with code "ASE-1"
